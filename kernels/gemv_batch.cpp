// One fork/join for several GEMVs (see gemv_batch.h).
#include "kernels/gemv_batch.h"
#include "kernels/simd_decl.h"

#include <algorithm>

namespace qb::kernels {
namespace {

constexpr int64_t NB = 64; // the column task of gemm_wo's and gemm_dense's GEMV paths
constexpr int kMaxJobs = 8;

void checkJob(const GemvJob& j)
{
    QB_KCHECK((j.wo != nullptr) != (j.dense != nullptr), "gemv_batch", "a job needs exactly one of wo / dense");
    if (j.wo) gemm_wo_check("gemv_batch", *j.wo);
    else gemm_dense_check("gemv_batch", *j.dense);
    const int64_t M = j.wo ? j.wo->M : j.dense->M;
    QB_KCHECK(M <= gemv_batch_rows(), "gemv_batch", "a job has more rows than gemv_batch_rows()");
}

void runTask(const GemvJob& j, int64_t n0, int64_t n1, Isa level)
{
    if (j.wo) {
        if (level >= Isa::Avx512) avx512::gemv_wo_cols(*j.wo, n0, n1);
        else avx2::gemm_wo_block(*j.wo, 0, j.wo->M, n0, n1);
    } else {
        if (level >= Isa::Avx512) avx512::gemm_dense_gemv(*j.dense, n0, n1, level >= Isa::Avx512Bf16);
        else avx2::gemm_dense_block(*j.dense, 0, j.dense->M, n0, n1);
    }
}

} // namespace

int64_t gemv_batch_rows() { return std::min<int64_t>(4, std::min(gemm_wo_gemv_rows(), gemm_dense_gemv_rows())); }

void gemv_batch(const GemvJob* jobs, int n)
{
    QB_KCHECK(n >= 0 && n <= kMaxJobs, "gemv_batch", "0..8 jobs");
    for (int i = 0; i < n; ++i) checkJob(jobs[i]);
    const Isa level = isa();
    if (level == Isa::Scalar || n == 1) {
        for (int i = 0; i < n; ++i) {
            if (jobs[i].wo) gemm_wo(*jobs[i].wo);
            else gemm_dense(*jobs[i].dense);
        }
        return;
    }
    int64_t first[kMaxJobs + 1];
    first[0] = 0;
    for (int i = 0; i < n; ++i) first[i + 1] = first[i] + ceil_div(jobs[i].wo ? jobs[i].wo->N : jobs[i].dense->N, NB);
    const int64_t total = first[n];
    int64_t bytes = 0;
    for (int i = 0; i < n; ++i)
        bytes += jobs[i].wo ? jobs[i].wo->N * jobs[i].wo->K
                            : jobs[i].dense->N * jobs[i].dense->K * (jobs[i].dense->w_type == DType::F32 ? 4 : 2);
#pragma omp parallel for schedule(static) num_threads(gemv_threads(bytes, num_threads()))
    for (int64_t t = 0; t < total; ++t) {
        int j = 0;
        while (t >= first[j + 1]) ++j;
        const GemvJob& job = jobs[j];
        const int64_t N = job.wo ? job.wo->N : job.dense->N;
        const int64_t n0 = (t - first[j]) * NB;
        runTask(job, n0, std::min(N, n0 + NB), level);
    }
}

} // namespace qb::kernels
