#include "sdk/rag/context_message.h"

namespace stemma::rag {

std::string context_block(const std::vector<const FaqEntry*>& entries) {
  if (entries.empty()) return std::string(kNoResults);
  std::string out;
  for (const FaqEntry* e : entries) {
    if (!out.empty()) out += "\n\n";
    out += "[" + e->id + "] " + e->title + "\nQ: " + e->question + "\nA: " + e->answer;
  }
  return out;
}

}  // namespace stemma::rag
