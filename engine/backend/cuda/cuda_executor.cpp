#include "engine/backend/cuda/cuda_executor.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/attn/attention_plan.h"
#include "engine/attn/shared_pages.h"
#include "engine/backend/cuda/cuda_weights.h"
#include "engine/backend/cuda/device_buffer.h"
#include "kernels/layer_ops.h"
#include "kernels/paged_attention.h"
#include "kernels/plan_attention.h"
#include "kernels/quant_matmul.h"
#include "kernels/sampling.h"

namespace stemma::cuda {
namespace {

using kernels::ElemType;
using kernels::WeightFormat;

constexpr int64_t kScratchElems = int64_t{64} << 20;  // 16-bit expansion of a prefill matmul

Status cublas_status(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return OkStatus();
  const std::string msg = "cuBLAS: " + what + ": status " + std::to_string(static_cast<int>(s));
  if (s == CUBLAS_STATUS_ALLOC_FAILED) return ResourceExhausted(msg);
  return Internal(msg);
}

cudaDataType_t cuda_type(ElemType t) {
  switch (t) {
    case ElemType::kF32:
      return CUDA_R_32F;
    case ElemType::kF16:
      return CUDA_R_16F;
    default:
      return CUDA_R_16BF;
  }
}

bool stored_as(WeightFormat f, ElemType t) {
  return (f == WeightFormat::kF32 && t == ElemType::kF32) ||
         (f == WeightFormat::kF16 && t == ElemType::kF16) ||
         (f == WeightFormat::kBF16 && t == ElemType::kBF16);
}

const char* type_name(ElemType t) {
  switch (t) {
    case ElemType::kF32:
      return "f32";
    case ElemType::kF16:
      return "f16";
    default:
      return "bf16";
  }
}

size_t align16(size_t n) {
  return (n + 15) / 16 * 16;
}

// Several host arrays packed into one upload.
class MetaPacker {
 public:
  template <typename T>
  size_t add(const std::vector<T>& v) {
    const size_t off = size_;
    parts_.push_back({off, v.data(), v.size() * sizeof(T)});
    size_ = align16(size_ + v.size() * sizeof(T));
    return off;
  }
  size_t size() const { return size_; }
  void fill(uint8_t* dst) const {
    for (const auto& p : parts_)
      if (p.bytes) std::memcpy(dst + p.offset, p.src, p.bytes);
  }

 private:
  struct Part {
    size_t offset;
    const void* src;
    size_t bytes;
  };
  std::vector<Part> parts_;
  size_t size_ = 0;
};

}  // namespace

struct CudaExecutor::Impl {
  std::shared_ptr<const LoadedModel> model;
  ModelConfig config;
  KvCacheShape kv;
  CudaOptions options;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  DeviceWeights w;
  ElemType T = ElemType::kBF16;
  int es = 2;  // bytes of one element of T
  DeviceBuffer k_cache, v_cache;
  int64_t page_stride = 0, layer_stride = 0;  // elements
  DeviceBuffer x, xn, qkv, q, att, delta, gu, act, logits_dev, scratch, meta, state_o, state_lse;
  DeviceBuffer pick_params, picked;  // argmax rows: zeroed sampling parameters, the ids
  PinnedBuffer meta_host, logits_host, picked_host;
  int num_sms = 0, blocks_per_sm = 0;
  bool fast_attention = false;
  Info info;

  ~Impl() {
    if (cublas != nullptr) cublasDestroy(cublas);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }

  Status validate(std::span<const SequenceStep> batch) const;
  Status matmul(const MatmulGroup& g, const void* xin, int32_t m, float* y);
  Status gemm(const void* w, ElemType wt, int64_t n, int64_t k, const void* xin, int32_t m,
              float* y, int64_t ldy);
  // `argmax` null: argmax_only is ignored (every step gets its rows). `interrupt` (may be
  // null): ModelExecutor::set_interrupt's flag, checked on the host between layers.
  Status run(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
             std::vector<float>& logits, std::vector<int32_t>* argmax,
             const std::atomic<bool>* interrupt);
};

Status CudaExecutor::Impl::validate(std::span<const SequenceStep> batch) const {
  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceStep& step = batch[b];
    const std::string where = "batch entry " + std::to_string(b);
    if (step.tokens.empty()) return InvalidArgument(where + ": no tokens");
    if (step.past_len < 0) return InvalidArgument(where + ": negative past_len");
    for (size_t i = 0; i < step.tokens.size(); ++i) {
      if (step.tokens[i] < 0 || step.tokens[i] >= config.vocab_size) {
        return OutOfRange(where + ": token " + std::to_string(step.tokens[i]) + " at index " +
                          std::to_string(i) + " is outside the vocabulary of " +
                          std::to_string(config.vocab_size));
      }
    }
    const int64_t total = step.past_len + static_cast<int64_t>(step.tokens.size());
    if (static_cast<int64_t>(step.pages.size()) * kv.page_size < total) {
      return OutOfRange(where + ": " + std::to_string(step.pages.size()) + " pages of " +
                        std::to_string(kv.page_size) + " slots cannot hold " +
                        std::to_string(total) + " positions");
    }
    const size_t used = static_cast<size_t>((total + kv.page_size - 1) / kv.page_size);
    for (size_t i = 0; i < used; ++i) {
      if (step.pages[i] < 0 || step.pages[i] >= kv.num_pages) {
        return OutOfRange(where + ": page id " + std::to_string(step.pages[i]) +
                          " is outside the pool of " + std::to_string(kv.num_pages));
      }
    }
  }
  return OkStatus();
}

Status CudaExecutor::Impl::gemm(const void* wp, ElemType wt, int64_t n, int64_t k, const void* xin,
                                int32_t m, float* y, int64_t ldy) {
  // Row-major Y[m][n] = X[m][k] W[n][k]^T is column-major Y^T = W^T X^T.
  const float one = 1.f, zero = 0.f;
  const cublasComputeType_t compute =
      wt == ElemType::kF32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F;
  return cublas_status(
      cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), m, static_cast<int>(k),
                   &one, wp, cuda_type(wt), static_cast<int>(k), xin, cuda_type(T),
                   static_cast<int>(k), &zero, y, CUDA_R_32F, static_cast<int>(ldy), compute,
                   CUBLAS_GEMM_DEFAULT),
      "GEMM " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
}

Status CudaExecutor::Impl::matmul(const MatmulGroup& g, const void* xin, int32_t m, float* y) {
  for (size_t i = 0; i < g.parts.size(); ++i) {
    const kernels::WeightMatrix& wv = g.parts[i].view;
    float* yp = y + g.column[i];
    if (stored_as(wv.format, T)) {
      STEMMA_RETURN_IF_ERROR(gemm(wv.data, T, wv.rows, wv.cols, xin, m, yp, g.width));
      continue;
    }
    if (m <= kernels::kGemvMaxRows || T == ElemType::kF32) {
      // Quantized (or differently typed) weights read once per 8 rows of x.
      for (int32_t r0 = 0; r0 < m; r0 += kernels::kGemvMaxRows) {
        const int32_t mr = std::min(kernels::kGemvMaxRows, m - r0);
        const void* xr = static_cast<const uint8_t*>(xin) + static_cast<size_t>(r0) * wv.cols * es;
        STEMMA_CUDA_RETURN(
            kernels::launch_gemv(wv, xr, T, mr, yp + static_cast<int64_t>(r0) * g.width, g.width,
                                 stream),
            "GEMV");
      }
      continue;
    }
    // Prefill: expand row chunks to 16 bits in scratch, then a cuBLAS GEMM per chunk.
    const int64_t chunk = std::max<int64_t>(1, std::min(wv.rows, kScratchElems / wv.cols));
    STEMMA_RETURN_IF_ERROR(
        scratch.grow(static_cast<size_t>(chunk * wv.cols) * es, "dequantized weights"));
    for (int64_t r0 = 0; r0 < wv.rows; r0 += chunk) {
      const int64_t nr = std::min(chunk, wv.rows - r0);
      STEMMA_CUDA_RETURN(kernels::launch_dequantize_rows(wv, r0, nr, T, scratch.data(), stream),
                         "expanding weights");
      STEMMA_RETURN_IF_ERROR(gemm(scratch.data(), T, nr, wv.cols, xin, m, yp + r0, g.width));
    }
  }
  return OkStatus();
}

Status CudaExecutor::Impl::run(std::span<const SequenceStep> batch,
                               const attn::BatchSegments* shared, std::vector<float>& logits,
                               std::vector<int32_t>* argmax, const std::atomic<bool>* interrupt) {
  STEMMA_CUDA_RETURN(cudaSetDevice(options.device),
                     "selecting GPU " + std::to_string(options.device));
  STEMMA_RETURN_IF_ERROR(validate(batch));
  const ModelConfig& c = config;
  const int32_t ps = static_cast<int32_t>(kv.page_size);
  const int64_t h = c.hidden_size, hd = c.head_dim, ff = c.intermediate_size;
  const int64_t qd = c.num_heads * hd, kvd = c.num_kv_heads * hd;

  // Logits rows: those that go back as rows first (batch order), then the argmax_only ones.
  std::vector<int32_t> ids, positions, slots, row_ids, pick_rows;
  std::vector<attn::SequencePages> seqs;
  for (const SequenceStep& step : batch) {
    const int32_t first = static_cast<int32_t>(ids.size());
    const int32_t n = static_cast<int32_t>(step.tokens.size());
    const bool pick = argmax != nullptr && step.argmax_only && !step.all_logits;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t pos = step.past_len + i;
      ids.push_back(step.tokens[static_cast<size_t>(i)]);
      positions.push_back(pos);
      slots.push_back(step.pages[static_cast<size_t>(pos / ps)] * ps + pos % ps);
      if (step.all_logits || i + 1 == n) (pick ? pick_rows : row_ids).push_back(first + i);
    }
    seqs.push_back({step.pages, step.past_len + n, n, first});
  }
  const int32_t t = static_cast<int32_t>(ids.size());
  const int32_t n_full = static_cast<int32_t>(row_ids.size());
  row_ids.insert(row_ids.end(), pick_rows.begin(), pick_rows.end());
  const int32_t nl = static_cast<int32_t>(row_ids.size());
  if (t == 0) return OkStatus();

  attn::BatchSegments local;
  if (shared == nullptr || shared->requests.size() != batch.size()) {
    local = attn::group_shared_pages(seqs, ps);
    shared = &local;
  }
  attn::PlanOptions po;
  po.page_size = ps;
  po.num_q_heads = static_cast<int32_t>(c.num_heads);
  po.num_kv_heads = static_cast<int32_t>(c.num_kv_heads);
  po.head_dim = static_cast<int32_t>(hd);
  po.kv_dtype_bytes = es;
  po.share_segments = options.shared_prefix_attention;
  po.cost.num_sms = num_sms;
  if (blocks_per_sm > 0) po.cost.blocks_per_sm = blocks_per_sm;
  STEMMA_ASSIGN_OR_RETURN(attn::AttentionPlan plan,
                          attn::build_attention_plan(shared->segments, shared->requests, po));
  for (const attn::WorkItem& it : plan.items) {
    if (it.num_members * (c.num_heads / c.num_kv_heads) > 1 && it.num_members > 1) {
      ++info.shared_plans;
      break;
    }
  }

  // One upload of every small array of the step.
  MetaPacker pack;
  const size_t o_ids = pack.add(ids), o_pos = pack.add(positions), o_slots = pack.add(slots),
               o_rows = pack.add(row_ids), o_items = pack.add(plan.items),
               o_pages = pack.add(plan.page_ids), o_mtok = pack.add(plan.member_token),
               o_mpos = pack.add(plan.member_pos), o_tsb = pack.add(plan.token_state_begin),
               o_ts = pack.add(plan.token_states);
  STEMMA_RETURN_IF_ERROR(meta_host.grow(pack.size(), "step metadata"));
  STEMMA_RETURN_IF_ERROR(meta.grow(pack.size(), "step metadata"));
  // The previous step's copy out of meta_host has finished (forward ends synchronized).
  pack.fill(static_cast<uint8_t*>(meta_host.data()));
  STEMMA_CUDA_RETURN(
      cudaMemcpyAsync(meta.data(), meta_host.data(), pack.size(), cudaMemcpyHostToDevice, stream),
      "uploading step metadata");
  auto at = [&](size_t off) { return reinterpret_cast<int32_t*>(meta.as<uint8_t>() + off); };

  const size_t tt = static_cast<size_t>(t);
  STEMMA_RETURN_IF_ERROR(x.grow(tt * h * 4, "activations"));
  STEMMA_RETURN_IF_ERROR(xn.grow(tt * h * es, "activations"));
  STEMMA_RETURN_IF_ERROR(qkv.grow(tt * (qd + 2 * kvd) * 4, "activations"));
  STEMMA_RETURN_IF_ERROR(q.grow(tt * qd * es, "activations"));
  STEMMA_RETURN_IF_ERROR(att.grow(tt * qd * es, "activations"));
  STEMMA_RETURN_IF_ERROR(delta.grow(tt * h * 4, "activations"));
  STEMMA_RETURN_IF_ERROR(gu.grow(tt * 2 * ff * 4, "activations"));
  STEMMA_RETURN_IF_ERROR(act.grow(tt * ff * es, "activations"));
  const size_t states = std::max<size_t>(1, static_cast<size_t>(plan.num_states));
  STEMMA_RETURN_IF_ERROR(state_o.grow(states * c.num_heads * hd * 4, "attention states"));
  STEMMA_RETURN_IF_ERROR(state_lse.grow(states * c.num_heads * 4, "attention states"));
  STEMMA_RETURN_IF_ERROR(logits_dev.grow(static_cast<size_t>(nl) * c.vocab_size * 4, "logits"));

  STEMMA_CUDA_RETURN(
      kernels::launch_embed_rows(w.token_embd.view, at(o_ids), t, x.as<float>(), stream),
      "embedding lookup");
  const float eps = c.rms_norm_eps;
  const DeviceBuffer* pending_bias = nullptr;  // the bias of the matmul in `delta`
  // Interrupt (issue 15 item 11): checked on the host between layers. Launches are
  // asynchronous, so for a large chunk the host waits for each layer before it checks (a
  // prefill layer takes far longer than the wait; decode-sized steps are never waited on).
  // The stream is drained before returning: the next step reuses these buffers.
  constexpr int32_t kWaitPerLayerTokens = 512;
  const bool wait_per_layer = interrupt != nullptr && t >= kWaitPerLayerTokens;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    if (wait_per_layer && l > 0) {
      STEMMA_CUDA_RETURN(cudaStreamSynchronize(stream), "running layer " + std::to_string(l - 1));
    }
    if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) {
      STEMMA_CUDA_RETURN(cudaStreamSynchronize(stream), "stopping an interrupted step");
      return Cancelled("step interrupted (a request in it was cancelled) at layer " +
                       std::to_string(l) + " of " + std::to_string(c.num_layers));
    }
    const DeviceLayer& L = w.layers[static_cast<size_t>(l)];
    kernels::ResidualNormParams rn;
    rn.x = x.as<float>();
    rn.delta = l == 0 ? nullptr : delta.as<float>();
    rn.delta_bias = (l == 0 || pending_bias == nullptr || pending_bias->data() == nullptr)
                        ? nullptr
                        : pending_bias->as<float>();
    rn.weight = L.attn_norm.as<float>();
    rn.out_type = T;
    rn.out = xn.data();
    rn.rows = t;
    rn.dim = static_cast<int32_t>(h);
    rn.eps = eps;
    STEMMA_CUDA_RETURN(kernels::launch_residual_norm(rn, stream), "attention norm");
    STEMMA_RETURN_IF_ERROR(matmul(L.qkv, xn.data(), t, qkv.as<float>()));

    kernels::QkvRopeParams qp;
    qp.qkv = qkv.as<float>();
    qp.bias = L.qkv_bias.data() ? L.qkv_bias.as<float>() : nullptr;
    qp.q_norm = L.q_norm.data() ? L.q_norm.as<float>() : nullptr;
    qp.k_norm = L.k_norm.data() ? L.k_norm.as<float>() : nullptr;
    qp.norm_eps = eps;
    qp.positions = at(o_pos);
    qp.inv_freq = w.inv_freq.as<float>();
    qp.attention_factor = w.rope_attention_factor;
    qp.layout =
        c.rope_interleaved ? kernels::RopeLayout::kInterleaved : kernels::RopeLayout::kHalves;
    qp.q_type = T;
    qp.q_out = q.data();
    qp.kv_type = T;
    qp.k_cache = k_cache.as<uint8_t>() + static_cast<size_t>(l * layer_stride) * es;
    qp.v_cache = v_cache.as<uint8_t>() + static_cast<size_t>(l * layer_stride) * es;
    qp.page_stride = page_stride;
    qp.slot_mapping = at(o_slots);
    qp.page_size = ps;
    qp.tokens = t;
    qp.q_heads = static_cast<int32_t>(c.num_heads);
    qp.kv_heads = static_cast<int32_t>(c.num_kv_heads);
    qp.head_dim = static_cast<int32_t>(hd);
    STEMMA_CUDA_RETURN(kernels::launch_qkv_rope(qp, stream), "bias, q/k norm and rope");

    const auto* items = reinterpret_cast<const kernels::PagedAttnItem*>(at(o_items));
    if (fast_attention) {
      kernels::PagedAttnParams ap;
      ap.dtype = T == ElemType::kF16 ? kernels::DType::kF16 : kernels::DType::kBF16;
      ap.q = q.data();
      ap.q_token_stride = qd;
      ap.k_cache = qp.k_cache;
      ap.v_cache = qp.v_cache;
      ap.page_stride = page_stride;
      ap.page_ids = at(o_pages);
      ap.items = items;
      ap.num_items = static_cast<int32_t>(plan.items.size());
      ap.member_token = at(o_mtok);
      ap.member_pos = at(o_mpos);
      ap.state_o = state_o.as<float>();
      ap.state_lse = state_lse.as<float>();
      ap.num_q_heads = qp.q_heads;
      ap.num_kv_heads = qp.kv_heads;
      ap.head_dim = qp.head_dim;
      ap.page_size = ps;
      ap.sm_scale = 1.f / std::sqrt(static_cast<float>(hd));
      STEMMA_CUDA_RETURN(kernels::launch_paged_attention(ap, stream), "attention");
      kernels::MergeStatesParams mp;
      mp.dtype = ap.dtype;
      mp.state_o = ap.state_o;
      mp.state_lse = ap.state_lse;
      mp.token_state_begin = at(o_tsb);
      mp.token_states = at(o_ts);
      mp.out = att.data();
      mp.out_token_stride = qd;
      mp.num_tokens = plan.num_query_tokens;
      mp.num_q_heads = qp.q_heads;
      mp.head_dim = qp.head_dim;
      STEMMA_CUDA_RETURN(kernels::launch_merge_states(mp, stream), "attention merge");
    } else {
      kernels::PlanAttentionParams ap;
      ap.type = T;
      ap.q = q.data();
      ap.q_token_stride = qd;
      ap.k_cache = qp.k_cache;
      ap.v_cache = qp.v_cache;
      ap.page_stride = page_stride;
      ap.page_ids = at(o_pages);
      ap.items = items;
      ap.num_items = static_cast<int32_t>(plan.items.size());
      ap.member_token = at(o_mtok);
      ap.member_pos = at(o_mpos);
      ap.state_o = state_o.as<float>();
      ap.state_lse = state_lse.as<float>();
      ap.num_q_heads = qp.q_heads;
      ap.num_kv_heads = qp.kv_heads;
      ap.head_dim = qp.head_dim;
      ap.page_size = ps;
      ap.sm_scale = 1.f / std::sqrt(static_cast<float>(hd));
      STEMMA_CUDA_RETURN(kernels::launch_plan_attention(ap, stream), "attention");
      kernels::MergeAnyParams mp;
      mp.state_o = ap.state_o;
      mp.state_lse = ap.state_lse;
      mp.token_state_begin = at(o_tsb);
      mp.token_states = at(o_ts);
      mp.out_type = T;
      mp.out = att.data();
      mp.out_token_stride = qd;
      mp.num_tokens = plan.num_query_tokens;
      mp.num_q_heads = qp.q_heads;
      mp.head_dim = qp.head_dim;
      STEMMA_CUDA_RETURN(kernels::launch_merge_states_any(mp, stream), "attention merge");
    }
    STEMMA_RETURN_IF_ERROR(matmul(L.o, att.data(), t, delta.as<float>()));

    rn.delta = delta.as<float>();
    rn.delta_bias = L.o_bias.data() ? L.o_bias.as<float>() : nullptr;
    rn.weight = L.ffn_norm.as<float>();
    STEMMA_CUDA_RETURN(kernels::launch_residual_norm(rn, stream), "ffn norm");
    STEMMA_RETURN_IF_ERROR(matmul(L.gate_up, xn.data(), t, gu.as<float>()));
    kernels::SwiGluF32Params sp;
    sp.gate_up = gu.as<float>();
    sp.bias = L.gate_up_bias.data() ? L.gate_up_bias.as<float>() : nullptr;
    sp.out_type = T;
    sp.out = act.data();
    sp.tokens = t;
    sp.dim = static_cast<int32_t>(ff);
    STEMMA_CUDA_RETURN(kernels::launch_swiglu_f32(sp, stream), "SwiGLU");
    STEMMA_RETURN_IF_ERROR(matmul(L.down, act.data(), t, delta.as<float>()));
    pending_bias = &L.down_bias;
  }
  kernels::ResidualNormParams fin;
  fin.x = x.as<float>();
  fin.delta = delta.as<float>();
  fin.delta_bias =
      (pending_bias != nullptr && pending_bias->data()) ? pending_bias->as<float>() : nullptr;
  fin.weight = w.output_norm.as<float>();
  fin.row_ids = at(o_rows);
  fin.out_type = T;
  fin.out = xn.data();
  fin.rows = nl;
  fin.dim = static_cast<int32_t>(h);
  fin.eps = eps;
  STEMMA_CUDA_RETURN(kernels::launch_residual_norm(fin, stream), "output norm");
  STEMMA_RETURN_IF_ERROR(matmul(w.output, xn.data(), nl, logits_dev.as<float>()));

  // Argmax rows: greedy picks on the GPU (the sampling kernel at temperature 0: the lowest index
  // among equal maxima, -1 when none is finite), so only their ids leave the device.
  const int32_t n_pick = nl - n_full;
  if (n_pick > 0) {
    const size_t pick_bytes = static_cast<size_t>(n_pick) * 4;
    STEMMA_RETURN_IF_ERROR(pick_params.grow(pick_bytes, "argmax rows"));
    STEMMA_RETURN_IF_ERROR(picked.grow(pick_bytes, "argmax rows"));
    STEMMA_RETURN_IF_ERROR(picked_host.grow(pick_bytes, "argmax rows"));
    STEMMA_CUDA_RETURN(cudaMemsetAsync(pick_params.data(), 0, pick_bytes, stream), "argmax rows");
    kernels::SampleParams sp;
    sp.logits = logits_dev.as<float>() + static_cast<int64_t>(n_full) * c.vocab_size;
    sp.logits_stride = c.vocab_size;
    sp.temperature = pick_params.as<float>();  // 0: greedy (top_k, top_p, uniform unread)
    sp.top_k = pick_params.as<int32_t>();
    sp.top_p = pick_params.as<float>();
    sp.uniform = pick_params.as<float>();
    sp.out_tokens = picked.as<int32_t>();
    sp.rows = n_pick;
    sp.vocab = static_cast<int32_t>(c.vocab_size);
    STEMMA_CUDA_RETURN(kernels::launch_sample(sp, stream), "argmax rows");
    STEMMA_CUDA_RETURN(cudaMemcpyAsync(picked_host.data(), picked.data(), pick_bytes,
                                       cudaMemcpyDeviceToHost, stream),
                       "copying argmax rows");
  }
  const size_t out_bytes = static_cast<size_t>(n_full) * c.vocab_size * 4;
  if (out_bytes > 0) {
    STEMMA_RETURN_IF_ERROR(logits_host.grow(out_bytes, "logits"));
    STEMMA_CUDA_RETURN(cudaMemcpyAsync(logits_host.data(), logits_dev.data(), out_bytes,
                                       cudaMemcpyDeviceToHost, stream),
                       "copying logits");
  }
  STEMMA_CUDA_RETURN(cudaStreamSynchronize(stream), "running the step");
  if (out_bytes > 0) {
    const float* lh = static_cast<const float*>(logits_host.data());
    logits.insert(logits.end(), lh, lh + static_cast<size_t>(n_full) * c.vocab_size);
  }
  if (n_pick > 0) {
    const int32_t* ph = static_cast<const int32_t*>(picked_host.data());
    argmax->insert(argmax->end(), ph, ph + n_pick);
  }
  ++info.steps;
  return OkStatus();
}

Result<std::unique_ptr<CudaExecutor>> CudaExecutor::create(std::shared_ptr<const LoadedModel> model,
                                                           KvCacheShape kv,
                                                           const CudaOptions& options) {
  if (!model) return InvalidArgument("CudaExecutor: no model");
  const ModelConfig& c = model->config;
  if (kv.num_layers == 0) kv.num_layers = c.num_layers;
  if (kv.num_kv_heads == 0) kv.num_kv_heads = c.num_kv_heads;
  if (kv.head_dim == 0) kv.head_dim = c.head_dim;
  if (kv.num_layers != c.num_layers || kv.num_kv_heads != c.num_kv_heads ||
      kv.head_dim != c.head_dim) {
    return InvalidArgument("CudaExecutor: KV shape does not match the model");
  }
  if (kv.page_size <= 0 || kv.page_size % 16 != 0) {
    return InvalidArgument("backend 'cuda': page_size " + std::to_string(kv.page_size) +
                           " must be a positive multiple of 16");
  }
  if (c.head_dim > 256) {
    return Unsupported("backend 'cuda': head_dim " + std::to_string(c.head_dim) + " (at most 256)");
  }
  if (c.num_heads / c.num_kv_heads > attn::kMaxRowsPerItem) {
    return Unsupported("backend 'cuda': more than 64 query heads per KV head");
  }
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->config = c;
  impl->options = options;
  STEMMA_CUDA_RETURN(cudaSetDevice(options.device),
                     "selecting GPU " + std::to_string(options.device));
  cudaDeviceProp prop{};
  STEMMA_CUDA_RETURN(cudaGetDeviceProperties(&prop, options.device), "querying the GPU");
  impl->info.device_name = prop.name;
  impl->info.device = options.device;
  impl->num_sms = prop.multiProcessorCount;
  STEMMA_CUDA_RETURN(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking),
                     "creating a stream");
  STEMMA_RETURN_IF_ERROR(cublas_status(cublasCreate(&impl->cublas), "creating a handle"));
  STEMMA_RETURN_IF_ERROR(
      cublas_status(cublasSetStream(impl->cublas, impl->stream), "binding the stream"));

  STEMMA_ASSIGN_OR_RETURN(impl->w, upload_weights(*impl->model));
  impl->T = impl->w.compute;
  impl->es = kernels::elem_bytes(impl->T);
  impl->info.weight_bytes = impl->w.bytes;
  impl->info.compute_type = type_name(impl->T);
  impl->fast_attention = impl->T != ElemType::kF32 && (c.head_dim == 64 || c.head_dim == 128);
  if (impl->fast_attention) {
    impl->blocks_per_sm = kernels::paged_attention_blocks_per_sm(
        impl->T == ElemType::kF16 ? kernels::DType::kF16 : kernels::DType::kBF16,
        static_cast<int32_t>(c.head_dim));
  }

  impl->page_stride = kv.num_kv_heads * kv.page_size * kv.head_dim;
  const int64_t page_bytes = 2 * kv.num_layers * impl->page_stride * impl->es;
  if (kv.num_pages <= 0) {
    size_t free_b = 0, total_b = 0;
    STEMMA_CUDA_RETURN(cudaMemGetInfo(&free_b, &total_b), "reading free memory");
    // Leave room for the step's activations, the dequantization scratch and cuBLAS.
    const int64_t reserve = (int64_t{1} << 30) + kScratchElems * 2;
    int64_t budget = static_cast<int64_t>(static_cast<double>(free_b) * 0.9) - reserve;
    if (options.kv_memory_bytes > 0) budget = std::min(budget, options.kv_memory_bytes);
    kv.num_pages = budget / page_bytes;
    if (kv.num_pages < 1) {
      return ResourceExhausted(
          "backend 'cuda': no GPU memory left for the KV cache after the "
          "weights (" +
          std::to_string(free_b >> 20) + " MiB free)");
    }
  }
  impl->kv = kv;
  impl->layer_stride = kv.num_pages * impl->page_stride;
  const size_t cache_bytes = static_cast<size_t>(kv.num_layers * impl->layer_stride) * impl->es;
  STEMMA_RETURN_IF_ERROR(impl->k_cache.grow(cache_bytes, "the KV cache"));
  STEMMA_RETURN_IF_ERROR(impl->v_cache.grow(cache_bytes, "the KV cache"));
  impl->info.kv_bytes = 2 * cache_bytes;
  return std::unique_ptr<CudaExecutor>(new CudaExecutor(std::move(impl)));
}

CudaExecutor::CudaExecutor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaExecutor::~CudaExecutor() = default;

const ModelConfig& CudaExecutor::config() const {
  return impl_->config;
}
const KvCacheShape& CudaExecutor::kv_shape() const {
  return impl_->kv;
}

Status CudaExecutor::forward(std::span<const SequenceStep> batch, std::vector<float>& logits) {
  return impl_->run(batch, nullptr, logits, nullptr, interrupt_flag());
}

Status CudaExecutor::forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                             std::vector<float>& logits) {
  return impl_->run(batch, shared, logits, nullptr, interrupt_flag());
}

Status CudaExecutor::forward(std::span<const SequenceStep> batch, const attn::BatchSegments* shared,
                             std::vector<float>& logits, std::vector<int32_t>& argmax) {
  return impl_->run(batch, shared, logits, &argmax, interrupt_flag());
}

Status CudaExecutor::copy_page(int32_t src, int32_t dst, int32_t num_slots) {
  const KvCacheShape& s = impl_->kv;
  if (src < 0 || src >= s.num_pages || dst < 0 || dst >= s.num_pages) {
    return OutOfRange("copy_page: page " +
                      std::to_string(src < 0 || src >= s.num_pages ? src : dst) +
                      " is outside the pool of " + std::to_string(s.num_pages));
  }
  if (num_slots < 0 || num_slots > s.page_size) {
    return OutOfRange("copy_page: " + std::to_string(num_slots) + " slots, a page has " +
                      std::to_string(s.page_size));
  }
  if (src == dst || num_slots == 0) return OkStatus();
  STEMMA_CUDA_RETURN(cudaSetDevice(impl_->options.device), "selecting the GPU");
  kernels::CopyPageParams p;
  p.k_cache = impl_->k_cache.data();
  p.v_cache = impl_->v_cache.data();
  p.kv_type = impl_->T;
  p.layer_stride = impl_->layer_stride;
  p.page_stride = impl_->page_stride;
  p.layers = static_cast<int32_t>(s.num_layers);
  p.kv_heads = static_cast<int32_t>(s.num_kv_heads);
  p.page_size = static_cast<int32_t>(s.page_size);
  p.head_dim = static_cast<int32_t>(s.head_dim);
  p.src = src;
  p.dst = dst;
  p.num_slots = num_slots;
  STEMMA_CUDA_RETURN(kernels::launch_copy_page(p, impl_->stream), "copying a KV page");
  return OkStatus();
}

CudaExecutor::Info CudaExecutor::info() const {
  return impl_->info;
}

}  // namespace stemma::cuda
