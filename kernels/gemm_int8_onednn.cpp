// W8A8 INT8 GEMM through oneDNN's int8 matmul (see gemm_int8_onednn.h).
#include "kernels/gemm_int8_onednn.h"
#include "kernels/simd_decl.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#ifdef QB_HAVE_DNNL
#include "kernels/onednn_util.h"

#include <omp.h>

#include <map>
#include <mutex>
#include <tuple>
#endif

namespace qb::kernels {

#ifdef QB_HAVE_DNNL

namespace onednn {

dnnl::engine& engine()
{
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

bool fast_impl(const dnnl::matmul::primitive_desc& pd)
{
    const std::string impl = pd.impl_info_str();
    return impl.rfind("brg", 0) == 0;
}

void use_kernel_threads()
{
    const int threads = num_threads();
    if (omp_get_max_threads() != threads)
        omp_set_num_threads(threads);
}

} // namespace onednn

namespace {

using dt = dnnl::memory::data_type;
using onednn::engine;

bool isaHasInt8Dot()
{
    const auto i = dnnl::get_effective_cpu_isa();
    using I = dnnl::cpu_isa;
    return i == I::avx512_core_vnni || i == I::avx512_core_bf16 || i == I::avx512_core_amx || i == I::avx2_vnni;
}

const char* isaName()
{
    using I = dnnl::cpu_isa;
    switch (dnnl::get_effective_cpu_isa()) {
    case I::avx512_core_amx: return "avx512_core_amx";
    case I::avx512_core_bf16: return "avx512_core_bf16";
    case I::avx512_core_vnni: return "avx512_core_vnni";
    case I::avx512_core: return "avx512_core";
    case I::avx2_vnni: return "avx2_vnni";
    case I::avx2: return "avx2";
    default: return "other";
    }
}

dnnl::matmul::primitive_desc makePd(int64_t M, int64_t N, int64_t K, const dnnl::memory::desc& wd)
{
    const dnnl::memory::desc sd({M, K}, dt::s8, {K, 1}), dd({M, N}, dt::s32, {N, 1});
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(sd, wd, dd), engine());
}

struct Cache {
    std::mutex mu;
    std::map<std::tuple<int64_t, int64_t, int64_t>, dnnl::matmul> prims; // (N, K, M)
};
Cache& cache()
{
    static Cache c;
    return c;
}

} // namespace

struct OnednnInt8Weight {
    int64_t N = 0, K = 0;
    dnnl::memory::desc wd;
    dnnl::memory packed;
    std::vector<float> scales;   // N, or 1 (per tensor)
};

void OnednnInt8WeightDeleter::operator()(OnednnInt8Weight* p) const { delete p; }

bool onednn_int8_available()
{
    static const bool ok = [] {
        const char* e = std::getenv("QB_INT8_GEMM");
        if (e && std::strcmp(e, "kernels") == 0) return false;
        try {
            return isaHasInt8Dot();
        } catch (...) {
            return false;
        }
    }();
    return ok && isa() >= Isa::AvxVnni;
}

std::string onednn_info()
{
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
           ", ISA " + isaName();
}

OnednnInt8WeightPtr onednn_pack_int8(const int8_t* w, int64_t N, int64_t K, int64_t ldw, const float* w_scales, Gran gran)
{
    QB_KCHECK(w && w_scales && N > 0 && K > 0 && ldw >= K, "onednn_pack_int8", "invalid weight");
    if (!onednn_int8_available() || gran == Gran::Group)
        return nullptr;
    try {
        // The blocked layout oneDNN picks for a mid-size M; checked to give its fast kernel at the
        // decode and prefill ends too.
        const dnnl::memory::desc any({K, N}, dt::s8, dnnl::memory::format_tag::any);
        const auto pd = makePd(64, N, K, any);
        const dnnl::memory::desc wd = pd.weights_desc();
        if (!onednn::fast_impl(pd) || !onednn::fast_impl(makePd(1, N, K, wd)) || !onednn::fast_impl(makePd(512, N, K, wd)))
            return nullptr;
        // Its blocks pad N and K: fine for model shapes (+0.3 % at 8192 x 4096), not for tiny ones
        // (a 32 x 64 weight doubles), where our layout keeps the memory honest.
        if (double(wd.get_size()) > 1.05 * double(N * K))
            return nullptr;
        OnednnInt8WeightPtr p(new OnednnInt8Weight);
        p->N = N;
        p->K = K;
        p->wd = wd;
        p->packed = dnnl::memory(wd, engine());
        // oneDNN reorders only from a dense plain layout: strided rows are copied together first.
        std::vector<int8_t> dense;
        if (ldw != K) {
            dense.resize(size_t(N * K));
            for (int64_t n = 0; n < N; ++n) std::memcpy(dense.data() + n * K, w + n * ldw, size_t(K));
        }
        dnnl::memory plain({{K, N}, dt::s8, {1, K}}, engine(), const_cast<int8_t*>(dense.empty() ? w : dense.data()));
        dnnl::stream st(engine());
        dnnl::reorder(plain, p->packed).execute(st, plain, p->packed);
        st.wait();
        p->scales.assign(w_scales, w_scales + (gran == Gran::Tensor ? 1 : N));
        return p;
    } catch (const dnnl::error&) { // no primitive for this shape: our kernel's layout instead
        return nullptr;
    }
}

size_t onednn_weight_bytes(const OnednnInt8Weight& w) { return w.wd.get_size() + w.scales.size() * sizeof(float); }

void gemm_int8_onednn(const OnednnInt8Weight& w, const Int8GemmArgs& a, void* y, DType y_type, int64_t ldy)
{
    QB_KCHECK(a.M > 0 && a.N == w.N && a.K == w.K, "gemm_int8_onednn", "shape does not match the packed weight");
    QB_KCHECK(a.x && a.x_scales && y && ldy >= a.N && a.ldx >= a.K, "gemm_int8_onednn", "invalid arguments");
    onednn::use_kernel_threads();
    const int threads = num_threads();
    dnnl::matmul prim;
    {
        Cache& c = cache();
        std::lock_guard<std::mutex> lock(c.mu);
        auto key = std::make_tuple(w.N, w.K, a.M);
        auto it = c.prims.find(key);
        if (it == c.prims.end()) {
            if (c.prims.size() >= 1024) // many prompt lengths (MMLU batches): start over rather than grow
                c.prims.clear();
            it = c.prims.emplace(key, dnnl::matmul(makePd(a.M, w.N, w.K, w.wd))).first;
        }
        prim = it->second;
    }
    // int32 sums into per-thread scratch that is kept (no page faults per call), then our epilogue.
    static thread_local std::vector<int32_t> acc;
    if (acc.size() < size_t(a.M * a.N))
        acc.resize(size_t(a.M * a.N));
    // The primitives take a dense X (the linears' case); strided rows are packed together first.
    const int8_t* x = a.x;
    static thread_local std::vector<int8_t> xdense;
    if (a.ldx != a.K) {
        if (xdense.size() < size_t(a.M * a.K))
            xdense.resize(size_t(a.M * a.K));
        for (int64_t m = 0; m < a.M; ++m) std::memcpy(xdense.data() + m * a.K, a.x + m * a.ldx, size_t(a.K));
        x = xdense.data();
    }
    dnnl::memory src({{a.M, a.K}, dt::s8, {a.K, 1}}, engine(), const_cast<int8_t*>(x));
    dnnl::memory dst({{a.M, a.N}, dt::s32, {a.N, 1}}, engine(), acc.data());
    static thread_local dnnl::stream st(engine());
    prim.execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w.packed}, {DNNL_ARG_DST, dst}});
    st.wait();
    const bool swT = w.scales.size() == 1, ybf = y_type == DType::BF16;
    const int32_t* accp = acc.data();
    const int64_t rows = std::max<int64_t>(1, 16384 / a.N); // rows per task: ~64 KiB of sums
    const int64_t tasks = ceil_div(a.M, rows);
    const bool simd = isa() >= Isa::Avx512;
#pragma omp parallel for schedule(static) num_threads(threads) if (tasks > 1)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t m0 = t * rows, m1 = std::min(a.M, m0 + rows);
        if (simd) {
            avx512::int8_epilogue_rows(accp, a.N, m0, m1, a.N, a.x_scales, a.x_per_tensor, w.scales.data(), swT, a.bias, y,
                                       ybf, ldy);
            continue;
        }
        for (int64_t m = m0; m < m1; ++m) {
            const float sx = a.x_per_tensor ? a.x_scales[0] : a.x_scales[m];
            for (int64_t n = 0; n < a.N; ++n) {
                float s = 0.0f;
                s = s + float(accp[m * a.N + n]) * w.scales[swT ? 0 : size_t(n)];
                float v = s * sx;
                if (a.bias) v = v + a.bias[n];
                if (ybf) static_cast<uint16_t*>(y)[m * ldy + n] = bf16_from_float(v);
                else static_cast<float*>(y)[m * ldy + n] = v;
            }
        }
    }
}

#else // no oneDNN

struct OnednnInt8Weight {};
void OnednnInt8WeightDeleter::operator()(OnednnInt8Weight* p) const { delete p; }
bool onednn_int8_available() { return false; }
std::string onednn_info() { return "oneDNN not built in"; }
OnednnInt8WeightPtr onednn_pack_int8(const int8_t*, int64_t, int64_t, int64_t, const float*, Gran) { return nullptr; }
size_t onednn_weight_bytes(const OnednnInt8Weight&) { return 0; }
void gemm_int8_onednn(const OnednnInt8Weight&, const Int8GemmArgs&, void*, DType, int64_t)
{
    bad_arg("gemm_int8_onednn", "oneDNN is not built in");
}

#endif

} // namespace qb::kernels
