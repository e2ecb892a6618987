// Placeholder translation unit so qb_kernels always has a source.
namespace qb::kernels { const char* version() { return "0"; } }
