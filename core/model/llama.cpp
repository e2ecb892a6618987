#include "core/model/llama.h"

#include "core/model/dense_gemm.h"
#include "core/util/error.h"
#include "core/util/torch_compat.h"
#include "kernels/act.h"
#include "kernels/attn.h"
#include "kernels/common.h"

#include <cmath>
#include <exception>
#include <limits>
#include <sstream>

namespace qb {

namespace {

std::string shapeStr(at::IntArrayRef s)
{
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < s.size(); ++i)
        os << (i ? ", " : "") << s[i];
    os << ']';
    return os.str();
}

// Whether a tensor can go to the one-pass AVX-512 kernels of kernels/act.h and attn.h (on the CPU,
// fp32 or bf16, and the CPU has AVX-512; elsewhere the libtorch ops run), and its kernel dtype.
bool onePassKernels(const at::Tensor& x, kernels::DType* t)
{
    const at::ScalarType dt = x.scalar_type();
    if (!x.is_cpu() || (dt != at::kFloat && dt != at::kBFloat16) || kernels::isa() < kernels::Isa::Avx512)
        return false;
    *t = dt == at::kFloat ? kernels::DType::F32 : kernels::DType::BF16;
    return true;
}

// Fetches a tensor, checks its shape, copies it into the model's dtype/device.
at::Tensor take(const LlamaModel::TensorSource& src, const LlamaModel::TensorFill& fill, const std::string& name,
                std::vector<int64_t> shape, at::ScalarType dtype, torch::Device device,
                bool required = true)
{
    at::Tensor t = src(name);
    if (!t.defined()) {
        if (required)
            throw Error("model weights: missing tensor " + name);
        return {};
    }
    if (t.sizes() != at::IntArrayRef(shape))
        throw Error("model weights: " + name + " has shape " + shapeStr(t.sizes()) + ", expected " +
                    shapeStr(shape));
    if (!at::isFloatingType(t.scalar_type()))
        throw Error("model weights: " + name + " is not a floating-point tensor");
    if (fill) {
        at::Tensor dst = at::empty(shape, at::TensorOptions().dtype(dtype).device(device));
        fill(name, dst);
        return dst;
    }
    // copy=true: sources may be views of a memory-mapped file that will be closed.
    return t.to(device, dtype, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

void checkConfig(const ModelConfig& c)
{
    auto bad = [](const std::string& what) { throw Error("model config: " + what); };
    if (c.hidden_size <= 0 || c.num_hidden_layers <= 0 || c.num_attention_heads <= 0 ||
        c.num_key_value_heads <= 0 || c.vocab_size <= 0 || c.intermediate_size <= 0)
        bad("sizes must be positive");
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        bad("num_attention_heads must be a multiple of num_key_value_heads");
    if (c.head_dim <= 0 || c.head_dim % 2 != 0)
        bad("head_dim must be positive and even (RoPE)");
}

} // namespace

// ---------------------------------------------------------------------------------------------

ModelMemory estimateModelMemory(const ModelConfig& c, at::ScalarType dtype)
{
    const double es = double(c10::elementSize(dtype));
    const double hid = double(c.hidden_size), D = double(c.head_dim), H = double(c.num_attention_heads),
                 kvH = double(c.num_key_value_heads), I = double(c.intermediate_size), L = double(c.num_hidden_layers),
                 V = double(c.vocab_size);
    const double perLayer = hid * H * D + 2 * hid * kvH * D + H * D * hid + 3 * hid * I;
    ModelMemory m;
    m.linearParams = L * perLayer;
    m.linears = m.linearParams * es;
    const double norms = L * (2 * hid + (c.qk_norm ? 2 * D : 0)) + hid;
    const double biases = c.attention_bias ? L * (H * D + 2 * kvH * D) : 0;
    m.weights = (m.linearParams + norms + biases + V * hid * (c.tie_word_embeddings ? 1 : 2)) * es;
    return m;
}

at::Tensor ropeInvFreq(const ModelConfig& cfg)
{
    const int64_t D = cfg.head_dim;
    // transformers: 1.0 / (base ** (arange(0, dim, 2, int64).float() / dim)), all in fp32.
    auto exponents = at::arange(0, D, 2, at::kLong).to(at::kFloat) / static_cast<float>(D);
    auto invFreq = 1.0 / at::pow(static_cast<float>(cfg.rope_theta), exponents);
    const auto& rs = cfg.rope_scaling;
    if (rs.type == "linear") {
        invFreq = invFreq / static_cast<float>(rs.factor);
    } else if (rs.type == "llama3") {
        // _compute_llama3_parameters: low frequencies divided by `factor`, high ones kept,
        // a smooth interpolation in between (wavelengths relative to the original context).
        const double oldCtx = static_cast<double>(rs.original_max_position_embeddings);
        const double lowWave = oldCtx / rs.low_freq_factor;
        const double highWave = oldCtx / rs.high_freq_factor;
        auto wavelen = 2.0 * M_PI / invFreq;
        auto llama = at::where(wavelen > lowWave, invFreq / rs.factor, invFreq);
        auto smooth = (oldCtx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
        auto smoothed = (1 - smooth) * llama / rs.factor + smooth * llama;
        auto medium = (wavelen >= highWave).logical_and(wavelen <= lowWave);
        invFreq = at::where(medium, smoothed, llama);
    } else if (rs.type != "none" && rs.type != "default" && !rs.type.empty()) {
        throw Error("model config: unsupported rope_scaling type '" + rs.type + "'");
    }
    return invFreq.to(at::kFloat).contiguous();
}

// ---------------------------------------------------------------------------------------------

KVCache::KVCache(const ModelConfig& cfg, int64_t batch, int64_t capacity, at::ScalarType dtype,
                 torch::Device device)
    : batch_(batch), capacity_(capacity)
{
    if (batch <= 0 || capacity <= 0)
        throw Error("KV cache: batch and capacity must be positive");
    auto opts = at::TensorOptions().dtype(dtype).device(device);
    for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
        k_.push_back(at::zeros({batch, cfg.num_key_value_heads, capacity, cfg.head_dim}, opts));
        v_.push_back(at::zeros({batch, cfg.num_key_value_heads, capacity, cfg.head_dim}, opts));
    }
    keyReal_ = at::zeros({batch, capacity}, at::TensorOptions().dtype(at::kBool).device(device));
    nextPos_ = at::zeros({batch}, at::TensorOptions().dtype(at::kLong).device(device));
}

void KVCache::reset()
{
    length_ = 0;
    hasPadding_ = false;
    keyReal_.zero_();
    nextPos_.zero_();
}

// ---------------------------------------------------------------------------------------------

LlamaModel::LlamaModel(ModelConfig cfg, const TensorSource& src, at::ScalarType dtype, torch::Device device,
                       const TensorFill& fill)
    : cfg_(std::move(cfg)), dtype_(dtype), device_(device)
{
    checkConfig(cfg_);
    if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf)
        throw Error("model: compute dtype must be float32, bfloat16 or float16");
    compat::InferenceGuard guard;
    const int64_t hid = cfg_.hidden_size, H = cfg_.num_attention_heads, kvH = cfg_.num_key_value_heads,
                  D = cfg_.head_dim, I = cfg_.intermediate_size, V = cfg_.vocab_size;
    auto get = [&](const std::string& n, std::vector<int64_t> shape, bool required = true) {
        return take(src, fill, n, std::move(shape), dtype_, device_, required);
    };
    auto lin = [&](const std::string& prefix, int64_t out, int64_t in, bool bias) -> LinearPtr {
        at::Tensor w = get(prefix + ".weight", {out, in});
        at::Tensor b = bias ? get(prefix + ".bias", {out}) : at::Tensor();
        return std::make_shared<DenseLinear>(w, b);
    };

    embed_tokens = get("model.embed_tokens.weight", {V, hid});
    norm = get("model.norm.weight", {hid});
    if (cfg_.tie_word_embeddings)
        lm_head = embed_tokens;
    else
        lm_head = get("lm_head.weight", {V, hid});

    layers.resize(cfg_.num_hidden_layers);
    for (int64_t i = 0; i < cfg_.num_hidden_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i);
        DecoderLayer& L = layers[i];
        L.input_layernorm = get(p + ".input_layernorm.weight", {hid});
        L.post_attention_layernorm = get(p + ".post_attention_layernorm.weight", {hid});
        L.q_proj = lin(p + ".self_attn.q_proj", H * D, hid, cfg_.attention_bias);
        L.k_proj = lin(p + ".self_attn.k_proj", kvH * D, hid, cfg_.attention_bias);
        L.v_proj = lin(p + ".self_attn.v_proj", kvH * D, hid, cfg_.attention_bias);
        L.o_proj = lin(p + ".self_attn.o_proj", hid, H * D, false);
        if (cfg_.qk_norm) {
            L.q_norm = get(p + ".self_attn.q_norm.weight", {D});
            L.k_norm = get(p + ".self_attn.k_norm.weight", {D});
        }
        L.gate_proj = lin(p + ".mlp.gate_proj", I, hid, false);
        L.up_proj = lin(p + ".mlp.up_proj", I, hid, false);
        L.down_proj = lin(p + ".mlp.down_proj", hid, I, false);
    }
    invFreq_ = ropeInvFreq(cfg_).to(device_);
}

KVCache LlamaModel::makeCache(int64_t batch, int64_t capacity) const
{
    return KVCache(cfg_, batch, capacity, dtype_, device_);
}

// ---------------------------------------------------------------------------------------------

at::Tensor LlamaModel::rmsNorm(const at::Tensor& x, const at::Tensor& w) const
{
    // transformers LlamaRMSNorm: fp32 statistics, cast back, then weight * x. On an AVX-512 CPU one
    // pass of kernels::rms_norm (the same roundings; the sum of squares in its own order) instead
    // of six ops: qwen2.5-0.5b shape, the 49 norms of a forward pass: 27 -> 6 ms for 512 tokens,
    // 0.8 -> 0.12 ms for one decode token.
    kernels::DType kt;
    if (onePassKernels(x, &kt) && w.scalar_type() == x.scalar_type() && w.dim() == 1 && w.size(0) == x.size(-1)) {
        const at::Tensor xc = x.contiguous(), wc = w.contiguous();
        at::Tensor y = at::empty_like(xc);
        const int64_t n = xc.size(-1);
        kernels::rms_norm(xc.data_ptr(), kt, xc.numel() / n, n, n, wc.data_ptr(), float(cfg_.rms_norm_eps), y.data_ptr(), n);
        return y;
    }
    auto xf = x.to(at::kFloat);
    auto var = xf.pow(2).mean(-1, /*keepdim=*/true);
    xf = xf * at::rsqrt(var + cfg_.rms_norm_eps);
    return w * xf.to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> LlamaModel::ropeCosSin(const at::Tensor& positions) const
{
    // (B, T, D/2) angles in fp32, duplicated to (B, T, D) as cat(freqs, freqs).
    auto freqs = positions.to(at::kFloat).unsqueeze(-1) * invFreq_;
    auto emb = at::cat({freqs, freqs}, -1);
    return {emb.cos().to(dtype_), emb.sin().to(dtype_)};
}

namespace {

at::Tensor rotateHalf(const at::Tensor& x)
{
    const int64_t h = x.size(-1) / 2;
    return at::cat({x.narrow(-1, h, h).neg(), x.narrow(-1, 0, h)}, -1);
}

// The MLP's silu(gate) * up: silu computed in float32 and rounded to the activation dtype, then the
// product (what CUDA and recent libtorch do for bf16; libtorch 1.13's CPU silu rounds every step to
// bf16: silu(1.078125) = 0.80078 there, 0.80443 exactly and here 0.80469). bf16 on an AVX-512 CPU:
// one pass of kernels::silu_mul_bf16 (its own exp: see kernels/act.h); qwen2.5-0.5b shape, a
// 512-token window, the 24 layers: 55 ms (libtorch) -> 30 ms.
at::Tensor siluMul(const at::Tensor& g, const at::Tensor& u)
{
    const at::ScalarType dt = g.scalar_type();
    if (!g.is_cpu() || dt == at::kFloat || dt == at::kDouble)
        return at::silu(g) * u;
    kernels::DType kt;
    if (onePassKernels(g, &kt) && kt == kernels::DType::BF16 && u.scalar_type() == dt && g.sizes() == u.sizes()) {
        const at::Tensor gc = g.contiguous(), uc = u.contiguous();
        at::Tensor y = at::empty_like(gc);
        kernels::silu_mul_bf16(static_cast<const uint16_t*>(gc.data_ptr()), static_cast<const uint16_t*>(uc.data_ptr()),
                               static_cast<uint16_t*>(y.data_ptr()), gc.numel());
        return y;
    }
    return at::silu(g.to(at::kFloat)).to(dt) * u;
}

// x: (B, T, heads, D); cos/sin: (B, T, D). On an AVX-512 CPU one pass of kernels::rope, bit-identical
// to the libtorch ops (the same three roundings per element): qwen2.5-0.5b shape, q and k of the 24
// layers: 17 -> 6 ms for 512 tokens, 0.53 -> 0.07 ms for one decode token.
at::Tensor applyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin)
{
    kernels::DType kt;
    if (onePassKernels(x, &kt) && cos.scalar_type() == x.scalar_type() && sin.scalar_type() == x.scalar_type() && x.dim() == 4 &&
        cos.dim() == 3 && cos.size(0) == x.size(0) && cos.size(1) == x.size(1) && cos.size(2) == x.size(3) &&
        sin.sizes() == cos.sizes() && x.size(3) % 2 == 0) {
        const at::Tensor xc = x.contiguous(), cc = cos.contiguous(), sc = sin.contiguous();
        at::Tensor y = at::empty_like(xc);
        kernels::rope(xc.data_ptr(), kt, x.size(0) * x.size(1), x.size(2), x.size(3), cc.data_ptr(), sc.data_ptr(), y.data_ptr());
        return y;
    }
    auto c = cos.unsqueeze(2), s = sin.unsqueeze(2);
    return x * c + rotateHalf(x) * s;
}

// q: (B, T, H, D); k, v: (B, kvH, Tk, D); mask: additive (B|1, 1, T, Tk) or undefined, and
// causal whenever defined (no query sees a key after its own slot, past + t).
// GQA without copying the keys: the rep = H/kvH query heads of a group share one key head, so a
// (tokens x rep) block of queries is one (n*rep, D) matrix against that head's (D, keys).
// Where no fused kernel is used, scores are computed in query blocks of about 2 MiB (fp32), so
// they stay in cache and the allocator reuses them instead of faulting fresh pages for a
// (B, H, T, Tk) tensor per layer (64 MiB per layer for 8 prompts of 512 tokens); each block
// only reads the keys up to its last query, which halves the work of a causal prefill.
// The (batch, key head, block) tasks run on all threads (largest first): libtorch would run each
// small matmul on the one thread the BLAS has. Each task's arithmetic does not depend on which
// thread runs it, so results do not depend on the thread count.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                  double scale, int64_t past)
{
    const int64_t B = q.size(0), T = q.size(1), H = q.size(2), D = q.size(3), kvH = k.size(1), Tk = k.size(2);
    const int64_t rep = H / kvH;
    if (compat::kFusedAttention && q.is_cuda()) {
        auto qg = q.view({B, T, kvH, rep, D}).permute({0, 2, 3, 1, 4}).reshape({B, kvH, rep * T, D});
        at::Tensor m = mask.defined() ? mask.repeat({1, 1, rep, 1}) : mask;
        auto out = compat::attention(qg, k, v, m, scale); // (B, kvH, rep*T, D)
        return out.view({B, kvH, rep, T, D}).permute({0, 3, 1, 2, 4}).reshape({B, T, H * D});
    }
    // Decode (one new token, no padding: no mask) on the CPU: the cache is read in place by
    // kernels::attn_decode instead of an fp32 copy of all its keys and a transposed copy of its
    // values per layer and step. qwen2.5-0.5b shape, attention of one decode token over the 24
    // layers: 48 keys 0.9-1.0 -> 0.10 ms, 1,056 keys 8-10 -> 1.3-1.7 ms (decode after a 1,024-token
    // prompt: BF16 28.7 -> 34.2 tok/s, INT8_Per_Row 38.6 -> 48.4).
    kernels::DType kt;
    if (!mask.defined() && onePassKernels(q, &kt) && k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type() &&
        k.stride(3) == 1 && v.stride(3) == 1 && k.stride(2) == D && v.stride(2) == D && k.stride(0) == v.stride(0) &&
        k.stride(1) == v.stride(1)) {
        const at::Tensor qc = q.contiguous();
        at::Tensor y = at::empty({B, T, H * D}, qc.options());
        kernels::DecodeAttnArgs a;
        a.B = B; a.T = T; a.H = H; a.kvH = kvH; a.D = D; a.past = Tk - T;
        a.t = kt;
        a.q = qc.data_ptr(); a.k = k.data_ptr(); a.v = v.data_ptr(); a.kv_sb = k.stride(0); a.kv_sg = k.stride(1);
        a.scale = float(scale); a.y = y.data_ptr();
        kernels::attn_decode(a);
        return y;
    }
    const auto f32 = at::kFloat;
    // (B, kvH, T, rep, D), pre-scaled, fp32 (scores and softmax in fp32 for stability).
    auto qs = at::empty({B, kvH, T, rep, D}, q.options().dtype(f32));
    qs.copy_((q.to(f32) * scale).view({B, T, kvH, rep, D}).permute({0, 2, 1, 3, 4}));
    const bool cpu = q.is_cpu();
    auto kf = k.to(f32);
    if (kf.stride(3) != 1)
        kf = kf.contiguous(); // rows of D contiguous (a cache view: row stride D, head stride its capacity)
    // On the CPU both products run on our dense kernels, one thread per task: no BLAS call in the
    // forward pass (OpenBLAS retries a failed buffer allocation forever, so a process near its
    // memory limit hung there instead of failing with "out of memory"). Y = X W^T needs V^T: one
    // transposing copy of V per call, the size of the fp32 copy that was made anyway.
    at::Tensor vf;
    if (cpu) {
        vf = at::empty({B, kvH, D, Tk}, q.options().dtype(f32));
        vf.copy_(v.transpose(2, 3));
    } else {
        vf = v.to(f32);
    }
    auto out = at::empty({B, T, kvH, rep, D}, q.options().dtype(f32));
    // y (rows, n) = x (rows, kk) . w (n, kk)^T, all fp32, row strides ldx / ldw, one thread.
    auto mmNT = [](const at::Tensor& x, int64_t ldx, const at::Tensor& w, int64_t ldw, int64_t rows, int64_t n, int64_t kk) {
        at::Tensor y = at::empty({rows, n}, x.options());
        kernels::DenseGemmArgs a;
        a.M = rows;
        a.N = n;
        a.K = kk;
        a.x = x.data_ptr();
        a.ldx = ldx;
        a.w = w.data_ptr();
        a.w_type = kernels::DType::F32;
        a.ldw = ldw;
        a.y = y.data_ptr();
        a.ldy = n;
        a.threads = 1;
        kernels::gemm_dense(a);
        return y;
    };
    const int64_t rowBytes = H * Tk * int64_t(sizeof(float));
    const int64_t tb = std::max<int64_t>(1, std::min<int64_t>(T, (int64_t(2) << 20) / rowBytes));
    const int64_t nb = (T + tb - 1) / tb, tasks = B * kvH * nb;
    auto task = [&](int64_t i) {
        const int64_t blk = nb - 1 - i % nb, h = (i / nb) % kvH, b = i / (nb * kvH); // last blocks (most keys) first
        const int64_t t0 = blk * tb, n = std::min(tb, T - t0);
        const int64_t kEnd = mask.defined() ? std::min(Tk, past + t0 + n) : Tk; // causal
        auto qb = qs.select(0, b).select(0, h).narrow(0, t0, n).view({n * rep, D});
        auto kh = kf.select(0, b).select(0, h); // (Tk, D)
        auto s = cpu ? mmNT(qb, D, kh, kh.stride(0), n * rep, kEnd, D) : at::mm(qb, kh.narrow(0, 0, kEnd).t()); // (n*rep, kEnd)
        if (mask.defined())
            s.view({n, rep, kEnd})
                .add_(mask.select(0, mask.size(0) == 1 ? 0 : b).select(0, 0).narrow(0, t0, n).narrow(1, 0, kEnd).unsqueeze(1));
        auto p = at::softmax(s, -1);
        auto vh = vf.select(0, b).select(0, h); // CPU: (D, Tk), else (Tk, D)
        auto o = cpu ? mmNT(p, kEnd, vh, Tk, n * rep, D, kEnd) : at::mm(p, vh.narrow(0, 0, kEnd)); // (n*rep, D)
        out.select(0, b).narrow(0, t0, n).select(1, h).copy_(o.view({n, rep, D}));
    };
    // Decode steps (a few queries): the fork/join would cost more than the work.
    const double work = double(B) * double(H) * double(T) * double(Tk) * double(D);
    const int threads = std::min<int64_t>(kernels::num_threads(), tasks);
    if (threads <= 1 || work < double(1 << 22)) {
        for (int64_t i = 0; i < tasks; ++i) task(i);
    } else {
        std::exception_ptr err;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int64_t i = 0; i < tasks; ++i) {
            try {
                compat::InferenceGuard guard; // thread-local: in-place writes to inference tensors
                task(i);
            } catch (...) {
#pragma omp critical(qb_attend_error)
                if (!err) err = std::current_exception();
            }
        }
        if (err)
            std::rethrow_exception(err);
    }
    return out.view({B, T, H * D}).to(q.scalar_type());
}

} // namespace

at::Tensor LlamaModel::forward(const at::Tensor& ids, KVCache* cache, const at::Tensor& mask, bool lastOnly) const
{
    return logits(forwardHidden(ids, cache, mask, lastOnly));
}

at::Tensor LlamaModel::logitsNative(const at::Tensor& hidden) const
{
    compat::InferenceGuard guard;
    if (lm_head_op)
        return lm_head_op->forward(hidden);
    return denseMatmul(hidden, lm_head, {});
}

at::Tensor LlamaModel::logits(const at::Tensor& hidden) const
{
    return logitsNative(hidden).to(at::kFloat);
}

at::Tensor LlamaModel::forwardHidden(const at::Tensor& idsIn, KVCache* cache, const at::Tensor& maskIn,
                                     bool lastOnly) const
{
    compat::InferenceGuard guard;
    if (idsIn.dim() != 2 || idsIn.size(1) == 0)
        throw Error("forward: input_ids must be (batch, tokens) with tokens > 0");
    const int64_t B = idsIn.size(0), T = idsIn.size(1);
    const int64_t H = cfg_.num_attention_heads, kvH = cfg_.num_key_value_heads, D = cfg_.head_dim;
    auto ids = idsIn.to(device_, at::kLong);
    {
        auto mn = ids.min().item<int64_t>(), mx = ids.max().item<int64_t>();
        if (mn < 0 || mx >= cfg_.vocab_size)
            throw Error("forward: token id " + std::to_string(mn < 0 ? mn : mx) + " outside the vocabulary (" +
                        std::to_string(cfg_.vocab_size) + ")");
    }
    int64_t past = 0;
    if (cache) {
        if (cache->batch_ != B)
            throw Error("forward: batch " + std::to_string(B) + " does not match the KV cache batch " +
                        std::to_string(cache->batch_));
        if (cache->k_.size() != layers.size())
            throw Error("forward: KV cache was made for another model");
        past = cache->length_;
        if (past + T > cache->capacity_)
            throw Error("forward: KV cache full (" + std::to_string(past) + " + " + std::to_string(T) + " > " +
                        std::to_string(cache->capacity_) + " positions)");
    }

    // Which of the new positions are real tokens, and their position ids.
    at::Tensor real; // (B, T) bool, undefined = all real
    bool padHere = false;
    if (maskIn.defined()) {
        if (maskIn.dim() != 2 || maskIn.size(0) != B || maskIn.size(1) != T)
            throw Error("forward: attention mask must have the shape of input_ids");
        real = maskIn.to(device_).ne(0);
        padHere = !real.all().item<bool>();
        if (!padHere)
            real = at::Tensor();
    }
    auto longOpts = at::TensorOptions().dtype(at::kLong).device(device_);
    at::Tensor pos;
    if (real.defined())
        pos = (real.to(at::kLong).cumsum(1) - 1).clamp_min(0);
    else
        pos = at::arange(T, longOpts).unsqueeze(0).expand({B, T});
    if (cache)
        pos = pos + cache->nextPos_.unsqueeze(1);

    // Keys visible to each query: real keys at or before it (causal over sequence slots), plus
    // the query's own slot, so a padding query still has one finite score (its output is
    // garbage nobody reads, but never NaN).
    const int64_t Tk = past + T;
    bool anyPad = padHere || (cache && cache->hasPadding_);
    at::Tensor keysReal; // (B, Tk) bool
    if (cache) {
        auto slot = cache->keyReal_.narrow(1, past, T);
        if (real.defined())
            slot.copy_(real);
        else
            slot.fill_(true);
        keysReal = cache->keyReal_.narrow(1, 0, Tk);
    } else if (real.defined()) {
        keysReal = real;
    }
    at::Tensor mask;
    if (T > 1 || anyPad) {
        auto qi = at::arange(past, Tk, longOpts).unsqueeze(1); // (T, 1)
        auto kj = at::arange(Tk, longOpts).unsqueeze(0);       // (1, Tk)
        at::Tensor allowed = kj.le(qi).unsqueeze(0);           // (1, T, Tk)
        if (anyPad)
            allowed = allowed.logical_and(keysReal.unsqueeze(1)).logical_or(kj.eq(qi).unsqueeze(0));
        mask = at::zeros(allowed.sizes(), at::TensorOptions().dtype(dtype_).device(device_))
                   .masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity())
                   .unsqueeze(1); // (B|1, 1, T, Tk)
    }

    auto [cos, sin] = ropeCosSin(pos);
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));

    at::Tensor h = at::embedding(embed_tokens, ids); // (B, T, hidden)
    for (size_t l = 0; l < layers.size(); ++l) {
        const DecoderLayer& L = layers[l];
        // --- attention ---
        auto x = rmsNorm(h, L.input_layernorm);
        at::Tensor q, k, v;
        std::vector<at::Tensor> ys;
        if (batchedGemv(x, {L.q_proj.get(), L.k_proj.get(), L.v_proj.get()}, ys)) { // decode: one fork/join
            q = ys[0].view({B, T, H, D});
            k = ys[1].view({B, T, kvH, D});
            v = ys[2].view({B, T, kvH, D});
        } else {
            q = L.q_proj->forward(x).view({B, T, H, D});
            k = L.k_proj->forward(x).view({B, T, kvH, D});
            v = L.v_proj->forward(x).view({B, T, kvH, D});
        }
        if (L.q_norm.defined()) {
            q = rmsNorm(q, L.q_norm);
            k = rmsNorm(k, L.k_norm);
        }
        q = applyRope(q, cos, sin);
        k = applyRope(k, cos, sin);
        at::Tensor kAll, vAll; // (B, kvH, Tk, D)
        if (cache) {
            cache->k_[l].narrow(2, past, T).copy_(k.transpose(1, 2));
            cache->v_[l].narrow(2, past, T).copy_(v.transpose(1, 2));
            kAll = cache->k_[l].narrow(2, 0, Tk);
            vAll = cache->v_[l].narrow(2, 0, Tk);
        } else {
            kAll = k.transpose(1, 2).contiguous();
            vAll = v.transpose(1, 2).contiguous();
        }
        auto attn = attend(q, kAll, vAll, mask, scale, past); // (B, T, H*D)
        h = h + L.o_proj->forward(attn);
        // --- MLP ---
        x = rmsNorm(h, L.post_attention_layernorm);
        at::Tensor g, u;
        if (batchedGemv(x, {L.gate_proj.get(), L.up_proj.get()}, ys)) {
            g = ys[0];
            u = ys[1];
        } else {
            g = L.gate_proj->forward(x);
            u = L.up_proj->forward(x);
        }
        h = h + L.down_proj->forward(siluMul(g, u));
    }
    if (cache) {
        cache->length_ += T;
        cache->hasPadding_ = anyPad;
        cache->nextPos_ += real.defined() ? real.sum(1) : at::full({B}, T, longOpts);
    }
    if (lastOnly)
        h = h.narrow(1, T - 1, 1);
    return rmsNorm(h, norm);
}

// ---------------------------------------------------------------------------------------------

std::vector<std::string> LlamaModel::linearNames() const
{
    static const char* kSlots[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                   "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
    std::vector<std::string> out;
    for (size_t i = 0; i < layers.size(); ++i)
        for (const char* s : kSlots)
            out.push_back("model.layers." + std::to_string(i) + "." + s);
    return out;
}

LinearPtr& LlamaModel::slot(const std::string& name)
{
    const std::string prefix = "model.layers.";
    auto bad = [&]() -> LinearPtr& { throw Error("model: no decoder linear named '" + name + "'"); };
    if (name.compare(0, prefix.size(), prefix) != 0)
        return bad();
    size_t dot = name.find('.', prefix.size());
    if (dot == std::string::npos)
        return bad();
    std::string idx = name.substr(prefix.size(), dot - prefix.size());
    if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 6)
        return bad();
    size_t i = std::stoul(idx);
    if (i >= layers.size())
        return bad();
    std::string s = name.substr(dot + 1);
    DecoderLayer& L = layers[i];
    if (s == "self_attn.q_proj") return L.q_proj;
    if (s == "self_attn.k_proj") return L.k_proj;
    if (s == "self_attn.v_proj") return L.v_proj;
    if (s == "self_attn.o_proj") return L.o_proj;
    if (s == "mlp.gate_proj") return L.gate_proj;
    if (s == "mlp.up_proj") return L.up_proj;
    if (s == "mlp.down_proj") return L.down_proj;
    return bad();
}

LinearPtr LlamaModel::linear(const std::string& name) const
{
    return const_cast<LlamaModel*>(this)->slot(name);
}

void LlamaModel::setLinear(const std::string& name, LinearPtr op)
{
    LinearPtr& s = slot(name);
    if (!op)
        throw Error("model: setLinear(" + name + ") with a null operator");
    if (op->inFeatures() != s->inFeatures() || op->outFeatures() != s->outFeatures())
        throw Error("model: setLinear(" + name + "): shape (" + std::to_string(op->outFeatures()) + ", " +
                    std::to_string(op->inFeatures()) + ") does not match (" + std::to_string(s->outFeatures()) +
                    ", " + std::to_string(s->inFeatures()) + ")");
    s = std::move(op);
}

uint64_t LlamaModel::weightBytes() const
{
    auto bytes = [](const at::Tensor& t) -> uint64_t { return t.defined() ? t.numel() * t.element_size() : 0; };
    uint64_t n = bytes(embed_tokens) + bytes(norm);
    if (lm_head_op)
        n += lm_head_op->weightBytes();
    else if (!cfg_.tie_word_embeddings)
        n += bytes(lm_head);
    for (const auto& L : layers) {
        n += bytes(L.input_layernorm) + bytes(L.post_attention_layernorm) + bytes(L.q_norm) + bytes(L.k_norm);
        for (const LinearPtr* p : {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
            n += (*p)->weightBytes();
    }
    return n;
}

uint64_t LlamaModel::decodeBytesPerToken() const
{
    const uint64_t embed = uint64_t(embed_tokens.numel() * embed_tokens.element_size());
    const uint64_t all = weightBytes();
    return cfg_.tie_word_embeddings && !lm_head_op ? all : all - embed;
}

} // namespace qb
