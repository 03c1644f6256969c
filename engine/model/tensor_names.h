// The tensors an architecture needs, by GGUF name and shape, and the HF -> GGUF name mapping.
// One list serves the GGUF loader, the safetensors loader, the dummy generator and the converter.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "engine/model/model_config.h"
#include "engine/model/tensor.h"

namespace stemma {

struct ExpectedTensor {
  std::string name;            // GGUF name
  std::vector<int64_t> shape;  // row-major, outermost first
  bool is_matrix = false;      // a weight matrix (quantizable); else a norm or bias (F32)
  int64_t fan_in = 0;          // columns of a matrix (for dummy init scale)
};

// Every tensor `c` requires, in file order (token_embd, blocks, output_norm, output).
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c);

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight". nullopt for names we do not
// know (the caller decides whether to refuse or skip them).
std::optional<std::string> hf_to_gguf_name(const std::string& hf_name);
// The inverse, for error messages and exports.
std::optional<std::string> gguf_to_hf_name(const std::string& gguf_name);

// Sizes positive, heads divisible by kv heads, and so on. `what` names the source in errors.
Status validate_config(const ModelConfig& c, const std::string& what);

// Every expected tensor is present with its shape and a supported dtype whose blocks fit its
// rows. Names each missing or mis-shaped tensor (all of them, not just the first).
Status validate_tensors(const ModelConfig& c, const std::map<std::string, TensorView>& tensors,
                        const std::string& what);

// The type a matrix with rows of `cols` elements is stored as when `want` is asked for: `want` if
// its blocks fit, else k-quants fall back to Q8_0 and Q8_0/Q4_0 to F16 (llama.cpp's quantizer
// makes similar substitutions, e.g. for Qwen2.5-0.5B's 896-wide rows).
DType storable_type(DType want, int64_t cols);

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace stemma
