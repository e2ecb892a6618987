// W8A8 INT8 GEMM: scalar reference, W packing, and the threaded dispatcher.
#include "kernels/gemm_int8.h"
#include "kernels/simd_decl.h"

#include <algorithm>

namespace qb::kernels {
namespace {

int64_t effectiveGroup(Gran g, int64_t group, int64_t K) { return g == Gran::Group && group < K ? group : K; }

void checkArgs(const char* fn, const Int8GemmArgs& a, bool needW)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, fn, "M, N, K must be > 0");
    QB_KCHECK(a.x && a.x_scales && a.y, fn, "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldy >= a.N, fn, "leading dimension too small");
    if (needW) {
        QB_KCHECK(a.w && a.w_scales, fn, "null weight pointer");
        QB_KCHECK(a.ldw >= a.K, fn, "ldw < K");
        QB_KCHECK(a.w_gran != Gran::Group || a.group > 0, fn, "group must be > 0");
    }
}

} // namespace

void gemm_int8_ref(const Int8GemmArgs& a)
{
    checkArgs("gemm_int8_ref", a, true);
    const int64_t G = effectiveGroup(a.w_gran, a.group, a.K), ng = ceil_div(a.K, G);
    for (int64_t m = 0; m < a.M; ++m) {
        const int8_t* xr = a.x + m * a.ldx;
        const float sx = a.x_per_tensor ? a.x_scales[0] : a.x_scales[m];
        for (int64_t n = 0; n < a.N; ++n) {
            const int8_t* wr = a.w + n * a.ldw;
            float s = 0.0f;
            for (int64_t g = 0; g < ng; ++g) {
                int32_t acc = 0;
                for (int64_t k = g * G, k1 = std::min(a.K, k + G); k < k1; ++k) acc += int32_t(xr[k]) * int32_t(wr[k]);
                const float sw = a.w_gran == Gran::Tensor ? a.w_scales[0] : a.w_scales[n * ng + g];
                s = s + float(acc) * sw;
            }
            float v = s * sx;
            if (a.bias) v = v + a.bias[n];
            a.y[m * a.ldy + n] = v;
        }
    }
}

PackedInt8Weight pack_int8_weight(const int8_t* w, int64_t N, int64_t K, int64_t ldw,
                                  const float* w_scales, Gran gran, int64_t group)
{
    QB_KCHECK(w && w_scales, "pack_int8_weight", "null pointer");
    QB_KCHECK(N > 0 && K > 0 && ldw >= K, "pack_int8_weight", "bad shape");
    QB_KCHECK(gran != Gran::Group || group > 0, "pack_int8_weight", "group must be > 0");
    PackedInt8Weight p;
    p.N = N; p.K = K; p.G = effectiveGroup(gran, group, K); p.ngroups = ceil_div(K, p.G);
    p.kq = ceil_div(p.G, 4); p.nblocks = ceil_div(N, 16);
    p.data.assign(size_t(p.nblocks * p.ngroups * p.kq * 64), 0);
    p.corr.assign(size_t(p.nblocks * p.ngroups * 16), 0);
    p.scales.assign(size_t(p.nblocks * p.ngroups * 16), 0.0f);
    bool hasMin = false;
#pragma omp parallel for num_threads(num_threads()) schedule(static) reduction(|| : hasMin)
    for (int64_t nb = 0; nb < p.nblocks; ++nb)
        for (int64_t g = 0; g < p.ngroups; ++g)
            for (int64_t j = 0; j < 16; ++j) {
                const int64_t n = nb * 16 + j;
                const size_t sidx = size_t((nb * p.ngroups + g) * 16 + j);
                if (n >= N) continue;                              // padding columns stay zero
                const int8_t* wr = w + n * ldw;
                int32_t sum = 0;
                for (int64_t k = g * p.G, k1 = std::min(K, k + p.G); k < k1; ++k) {
                    const int64_t kk = k - g * p.G;
                    p.data[size_t(((nb * p.ngroups + g) * p.kq + kk / 4) * 64 + j * 4 + kk % 4)] = wr[k];
                    sum += wr[k];
                    if (wr[k] == -128) hasMin = true;
                }
                p.corr[sidx] = 128 * sum;
                p.scales[sidx] = gran == Gran::Tensor ? w_scales[0] : w_scales[n * p.ngroups + g];
            }
    p.has_min = hasMin;
    return p;
}

namespace {

// Scalar kernel on the packed layout (CPUs without AVX2): the reference's order, bit-identical.
void packedBlockScalar(const PackedInt8Weight& p, const uint8_t* xp, int64_t xps, int64_t m0, int64_t m1, int64_t nb0,
                       int64_t nb1, const float* x_scales, bool x_per_tensor, const float* bias, float* y, int64_t ldy)
{
    for (int64_t m = m0; m < m1; ++m)
        for (int64_t nb = nb0; nb < nb1; ++nb)
            for (int64_t j = 0; j < 16 && nb * 16 + j < p.N; ++j) {
                float s = 0.0f;
                for (int64_t g = 0; g < p.ngroups; ++g) {
                    const int8_t* w = p.data.data() + (nb * p.ngroups + g) * p.kq * 64 + j * 4;
                    const uint8_t* x = xp + m * xps + g * p.kq * 4;
                    int32_t acc = 0;
                    for (int64_t q = 0; q < p.kq; ++q)
                        for (int64_t t = 0; t < 4; ++t) acc += int32_t(x[q * 4 + t]) * int32_t(w[q * 64 + t]);
                    const size_t si = size_t((nb * p.ngroups + g) * 16 + j);
                    s = s + float(acc - p.corr[si]) * p.scales[si];
                }
                float v = s * (x_per_tensor ? x_scales[0] : x_scales[m]);
                if (bias) v = v + bias[nb * 16 + j];
                y[m * ldy + nb * 16 + j] = v;
            }
}

} // namespace

void gemm_int8_packed(const PackedInt8Weight& p, const Int8GemmArgs& a)
{
    Int8GemmArgs c = a;
    c.N = p.N; c.K = p.K;
    checkArgs("gemm_int8_packed", c, false);
    const Isa level = isa();
    // X biased to u8 (x + 128) in the packed group layout: (M, ngroups, kq*4); padding k's meet zero
    // weights. The plain AVX2 kernel (vpmaddwd) takes the same values as int16.
    const int64_t xps = p.ngroups * p.kq * 4;
    // AVX2 without VNNI: the sign trick (|x| and x as bytes) unless W holds -128, then int16 x + 128.
    const bool sign = level == Isa::Avx2 && !p.has_min;
    const bool wide = level == Isa::Avx2 && p.has_min;
    std::vector<uint8_t> xp(size_t(a.M * xps) * (wide || sign ? 2 : 1));
    uint8_t* xb = xp.data();
    int16_t* xw = reinterpret_cast<int16_t*>(xp.data());
    int8_t* xs = reinterpret_cast<int8_t*>(xp.data() + a.M * xps); // sign source (the codes) for the trick
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (a.M * a.K > (1 << 16))
    for (int64_t m = 0; m < a.M; ++m)
        for (int64_t g = 0; g < p.ngroups; ++g) {
            const int8_t* src = a.x + m * a.ldx + g * p.G;
            const int64_t o = m * xps + g * p.kq * 4, k1 = std::min(p.G, p.K - g * p.G);
            if (sign) {
                for (int64_t k = 0; k < k1; ++k) {
                    xs[o + k] = src[k];
                    xb[o + k] = uint8_t(src[k] < 0 ? -int(src[k]) : int(src[k])); // |-128| = 128 fits a u8
                }
                for (int64_t k = k1; k < p.kq * 4; ++k) xs[o + k] = 0, xb[o + k] = 0;
            } else if (wide) {
                for (int64_t k = 0; k < k1; ++k) xw[o + k] = int16_t(src[k] + 128);
                for (int64_t k = k1; k < p.kq * 4; ++k) xw[o + k] = 128;
            } else {
                for (int64_t k = 0; k < k1; ++k) xb[o + k] = uint8_t(src[k]) ^ 0x80u;
                for (int64_t k = k1; k < p.kq * 4; ++k) xb[o + k] = 0x80;
            }
        }
    // Blocks: 128 rows of X (stays in L2) x 2 n-blocks (32 columns of W).
    constexpr int64_t MB = 128, NBB = 2;
    const int64_t mblocks = ceil_div(a.M, MB), nbb = ceil_div(p.nblocks, NBB);
    const int nt = a.M <= 4 ? gemv_threads(p.N * p.K, num_threads()) : num_threads();
#pragma omp parallel for num_threads(nt) collapse(2) schedule(static)
    for (int64_t mb = 0; mb < mblocks; ++mb)
        for (int64_t j = 0; j < nbb; ++j) {
            const int64_t m0 = mb * MB, m1 = std::min(a.M, mb * MB + MB), nb0 = j * NBB, nb1 = std::min(p.nblocks, j * NBB + NBB);
            if (level >= Isa::Avx512)
                avx512::gemm_int8_block(p, xb, xps, m0, m1, nb0, nb1, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy);
            else if (level == Isa::AvxVnni)
                avxvnni::gemm_int8_block(p, xb, xps, m0, m1, nb0, nb1, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy);
            else if (sign)
                avx2sign::gemm_int8_block(p, xb, xs, xps, m0, m1, nb0, nb1, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy);
            else if (level == Isa::Avx2)
                avx2::gemm_int8_block(p, xw, xps, m0, m1, nb0, nb1, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy);
            else
                packedBlockScalar(p, xb, xps, m0, m1, nb0, nb1, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy);
        }
}

void gemm_int8(const Int8GemmArgs& a)
{
    checkArgs("gemm_int8", a, true);
    if (!simd_enabled()) {
        // Reference split over rows of X so the fallback still uses every core.
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (a.M > 1)
        for (int64_t m = 0; m < a.M; ++m) {
            Int8GemmArgs r = a;
            r.M = 1; r.x = a.x + m * a.ldx; r.y = a.y + m * a.ldy;
            r.x_scales = a.x_per_tensor ? a.x_scales : a.x_scales + m;
            gemm_int8_ref(r);
        }
        return;
    }
    const PackedInt8Weight p = pack_int8_weight(a.w, a.N, a.K, a.ldw, a.w_scales, a.w_gran, a.group);
    gemm_int8_packed(p, a);
}

} // namespace qb::kernels
