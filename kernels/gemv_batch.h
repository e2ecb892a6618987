#pragma once
// Several independent GEMVs in one parallel region: a decode step's q/k/v projections, or its
// gate/up pair, read the same X (<= 4 rows) and each is one memory-bound pass over its weights.
// Run one after another, each pays an OpenMP fork/join (with passive waiting a futex wake-up and
// a sleep per thread, ~20-30 us on a 2-core VM, 7 per decoder layer); run here, the step pays one.
// The 64-column tasks of all jobs are concatenated and split evenly over the threads; every task
// runs the very tile code that gemm_wo / gemm_dense run on the same columns for the same M, so
// each job's Y is bit-identical to calling its GEMM alone (tests: tst_kernels gemvBatch*).
// Jobs: weight-only (WoGemmArgs) or dense (DenseGemmArgs) with M <= 4 (gemv_batch_rows()); the
// scalar level runs the jobs one by one.
#include "kernels/gemm_dense.h"
#include "kernels/gemm_wo.h"

namespace qb::kernels {

struct GemvJob {
    const WoGemmArgs* wo = nullptr;        // exactly one of the two is set
    const DenseGemmArgs* dense = nullptr;
};

int64_t gemv_batch_rows(); // the largest M a job may have (the GEMV tiles' rows)
void gemv_batch(const GemvJob* jobs, int n);

} // namespace qb::kernels
