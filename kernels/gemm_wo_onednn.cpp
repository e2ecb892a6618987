// Weight-only GEMM for bf16 X on oneDNN's bf16 matmul (see gemm_wo.h): our exact decode into bf16
// blocks, oneDNN's brgemm for the products, its post-ops for the scales, the sum over groups and bias.
#include "kernels/gemm_wo.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifdef QB_HAVE_DNNL
#include "kernels/onednn_util.h"

#include <map>
#include <mutex>
#include <exception>
#include <tuple>
#include <unordered_map>
#endif

namespace qb::kernels {
namespace {

WoPath envPath()
{
    const char* e = std::getenv("QB_WO_GEMM");
    if (e && std::strcmp(e, "kernels") == 0) return WoPath::Kernels;
    if (e && std::strcmp(e, "onednn") == 0) return WoPath::Onednn;
    return WoPath::Auto;
}

std::atomic<WoPath>& pathSetting()
{
    static std::atomic<WoPath> p{envPath()};
    return p;
}

} // namespace

WoPath wo_path() { return pathSetting().load(std::memory_order_relaxed); }
void set_wo_path(WoPath p) { pathSetting().store(p, std::memory_order_relaxed); }
int64_t wo_onednn_min_rows() { return 16; }
bool wo_uses_onednn(const WoGemmArgs& a)
{
    return a.x_type == DType::BF16 && a.M >= wo_onednn_min_rows() && wo_prefill_onednn();
}

#ifdef QB_HAVE_DNNL

namespace {

using dt = dnnl::memory::data_type;
using onednn::engine;

enum class Brgemm : uint8_t { None, Bf16, Amx };

Brgemm brgemmIsa()
{
    static const Brgemm b = [] {
        try {
            const auto i = dnnl::get_effective_cpu_isa();
            if (i == dnnl::cpu_isa::avx512_core_amx) return Brgemm::Amx;
            if (i == dnnl::cpu_isa::avx512_core_bf16) return Brgemm::Bf16;
        } catch (...) {
        }
        return Brgemm::None;
    }();
    return b;
}

// Per (block, group) matmul: dst(M, nb) f32 = post_ops(X_g(M, kc) . Wdec_g(kc, nb)) with post-ops
// [x sv (per column), + dst (later groups), + bias (last group, when there is one)]. The decoded block
// is written in the layout the brgemm reads (BA16a64b2a: 64-column panels of k pairs) when it picks
// that one, so it does not copy it again; otherwise plain (n, k) rows, which it copies itself.
struct Prim {
    dnnl::matmul mm;
    dnnl::memory::desc wd, scratch;
    bool ba64 = false;
};
struct Cache {
    std::mutex mu;
    std::map<std::tuple<int64_t, int64_t, int64_t, bool, bool>, Prim> mm;  // (M, nb, kc, sum, bias)
};
Cache& cache()
{
    static Cache c;
    return c;
}

Prim matmulFor(int64_t M, int64_t nb, int64_t kc, bool sum, bool bias)
{
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    const auto key = std::make_tuple(M, nb, kc, sum, bias);
    auto it = c.mm.find(key);
    if (it == c.mm.end()) {
        if (c.mm.size() >= 1024) // many prompt lengths (MMLU batches): start over rather than grow
            c.mm.clear();
        const dnnl::memory::desc sd({M, kc}, dt::bf16, {kc, 1}), dd({M, nb}, dt::f32, {nb, 1}), vd({1, nb}, dt::f32, {nb, 1});
        dnnl::post_ops po;
        po.append_binary(dnnl::algorithm::binary_mul, vd);
        if (sum) po.append_sum(1.0f);
        if (bias) po.append_binary(dnnl::algorithm::binary_add, vd);
        dnnl::primitive_attr attr;
        attr.set_post_ops(po);
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user); // ours, per calling thread
        const dnnl::memory::desc any({kc, nb}, dt::bf16, dnnl::memory::format_tag::any),
            ba64({kc, nb}, dt::bf16, dnnl::memory::format_tag::BA16a64b2a), plain({kc, nb}, dt::bf16, {1, kc});
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(sd, any, dd), attr, engine());
        const bool blocked = onednn::fast_impl(pd) && pd.weights_desc() == ba64;
        if (!blocked)
            pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(sd, plain, dd), attr, engine());
        it = c.mm.emplace(key, Prim{dnnl::matmul(pd), pd.weights_desc(), pd.scratchpad_desc(), blocked}).first;
    }
    return it->second;
}

// Columns per task (a multiple of 64): about 1 MiB of decoded bf16 (the brgemm's B stays in L2), and a
// task count that is a multiple of the threads where N allows.
int64_t blockCols(int64_t N, int64_t K, int threads)
{
    const int64_t most = std::clamp<int64_t>((int64_t(1) << 19) / K / 64 * 64, 64, 1024);
    const int64_t t = std::max(1, threads), tasks = ceil_div(ceil_div(N, most), t) * t;
    return std::min(most, ceil_div(ceil_div(N, tasks), 64) * 64);
}

} // namespace

bool wo_onednn_available() { return brgemmIsa() != Brgemm::None && isa() >= Isa::Avx512Bf16; }

bool wo_prefill_onednn()
{
    if (!wo_onednn_available()) return false;
    const WoPath p = wo_path();
    return p == WoPath::Onednn || (p == WoPath::Auto && brgemmIsa() == Brgemm::Amx);
}

void gemm_wo_onednn(const WoGemmArgs& a)
{
    gemm_wo_check("gemm_wo_onednn", a);
    QB_KCHECK(a.x_type == DType::BF16, "gemm_wo_onednn", "X must be bf16");
    QB_KCHECK(wo_onednn_available(), "gemm_wo_onednn", "no oneDNN bf16 matmul on this CPU / build");
    const int threads = num_threads();
    const int64_t M = a.M, N = a.N, K = a.K;
    const int64_t G = a.w_gran == Gran::Group && a.group < K ? a.group : K, ng = ceil_div(K, G);
    const float fold = a.w_type == QType::FP8_E4M3 ? 256.0f : 1.0f; // the decode gives value / 256
    const uint16_t* x = static_cast<const uint16_t*>(a.x);

    // X as dense (M, kc) chunks, group after group (brgemm takes no row stride here).
    static thread_local std::vector<uint16_t> xg;
    if (ng > 1 || a.ldx != K) {
        xg.resize(size_t(M * K));
        uint16_t* const xd = xg.data();   // (thread_local: the workers below see only the pointer)
#pragma omp parallel for schedule(static) num_threads(threads) if (M * K > 65536)
        for (int64_t m = 0; m < M; ++m)
            for (int64_t g = 0; g < ng; ++g) {
                const int64_t k0 = g * G, kc = std::min(G, K - k0);
                std::memcpy(xd + M * k0 + m * kc, x + m * a.ldx + k0, size_t(kc) * 2);
            }
        x = xd;
    }
    // One parallel region: each task (NB columns) decodes its block, runs the groups' matmuls on its
    // thread (oneDNN runs single-threaded inside a parallel region) and stores its columns of Y. With
    // OpenMP waiting passively (the apps' policy) every oneDNN fork/join costs a wake-up; this way a
    // call pays one.
    const int64_t NB = blockCols(N, K, threads), tasks = ceil_div(N, NB);
    const int64_t gsize = ceil_div(NB, 64) * 64 * ceil_div(G, 32) * 32;   // one decoded group, either layout
    // Primitives of the first, a middle and the last group (shorter maybe, and adding bias), for full
    // tasks and for the last task's narrower block: looked up once per call, not per task.
    struct GroupPrims {
        Prim first, mid, last;
        const Prim& of(int64_t g, int64_t ng) const { return g == 0 ? first : g == ng - 1 ? last : mid; }
    };
    auto primsFor = [&](int64_t nb) {
        auto at = [&](int64_t g) { return matmulFor(M, nb, std::min(G, K - g * G), g > 0, g == ng - 1 && a.bias); };
        GroupPrims p;
        p.first = at(0);
        p.last = ng > 1 ? at(ng - 1) : p.first;
        p.mid = ng > 2 ? at(1) : p.last;
        return p;
    };
    const int64_t tail = N - (tasks - 1) * NB;
    const GroupPrims full = primsFor(NB), narrow = tail == NB ? full : primsFor(tail);
    std::exception_ptr err;
    std::mutex errMu;
#pragma omp parallel for schedule(static) num_threads(threads) if (tasks > 1)
    for (int64_t t = 0; t < tasks; ++t) {
        try {
            const int64_t n0 = t * NB, nb = std::min(NB, N - n0);
            static thread_local ScratchBuffer wbuf, cbuf, sbuf;   // this worker's: 64-byte aligned
            static thread_local std::vector<uint8_t> pad;
            static thread_local dnnl::stream st(engine());
            // One group at a time: decoded just before its matmul, on the same thread.
            uint16_t* const w = reinterpret_cast<uint16_t*>(wbuf.floats(size_t(gsize + 1) / 2));
            float* const acc = cbuf.floats(size_t(M * nb));
            float* const sv = sbuf.floats(size_t(nb));
            const GroupPrims& prims = nb == NB ? full : narrow;
            for (int64_t g = 0; g < ng; ++g) {
                const int64_t k0 = g * G, kc = std::min(G, K - k0);
                const Prim& p = prims.of(g, ng);
                if (p.ba64) {
                    const int64_t kp = ceil_div(kc, 32) * 32;
                    for (int64_t q = 0; q * 64 < nb; ++q) avx512::wo_decode_bf16_ba64(a, n0 + q * 64, k0, kc, kp, w + q * 64 * kp);
                } else {
                    avx512::wo_decode_bf16(a, n0, n0 + nb, k0, kc, w);
                }
                for (int64_t j = 0; j < nb; ++j)
                    sv[j] = (a.w_gran == Gran::Tensor ? a.w_scales[0] : a.w_scales[(n0 + j) * ng + g]) * fold;
                if (pad.size() < p.scratch.get_size()) pad.resize(p.scratch.get_size());
                const dnnl::memory::desc vd({1, nb}, dt::f32, {nb, 1});
                std::unordered_map<int, dnnl::memory> args = {
                    {DNNL_ARG_SRC, dnnl::memory({{M, kc}, dt::bf16, {kc, 1}}, engine(), const_cast<uint16_t*>(x + M * k0))},
                    {DNNL_ARG_WEIGHTS, dnnl::memory(p.wd, engine(), w)},
                    {DNNL_ARG_DST, dnnl::memory({{M, nb}, dt::f32, {nb, 1}}, engine(), acc)},
                    {DNNL_ARG_SCRATCHPAD, dnnl::memory(p.scratch, engine(), pad.data())},
                    {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, dnnl::memory(vd, engine(), sv)}};
                if (g == ng - 1 && a.bias)
                    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(g > 0 ? 2 : 1) | DNNL_ARG_SRC_1,
                                 dnnl::memory(vd, engine(), const_cast<float*>(a.bias + n0)));
                p.mm.execute(st, args);
            }
            st.wait();
            avx512::wo_store_rows(acc, nb, nb, a, n0);
        } catch (...) {   // no exception may leave an OpenMP region: rethrown below
            std::lock_guard<std::mutex> lock(errMu);
            if (!err) err = std::current_exception();
        }
    }
    if (err) std::rethrow_exception(err);
}

#else // no oneDNN

bool wo_onednn_available() { return false; }
bool wo_prefill_onednn() { return false; }
void gemm_wo_onednn(const WoGemmArgs&) { bad_arg("gemm_wo_onednn", "oneDNN is not built in"); }

#endif

} // namespace qb::kernels
