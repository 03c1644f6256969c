#include "demos/faq-bot/reply_ranker.h"

namespace stemma::faqbot {

int choose_reply(const std::vector<double>& logprobs, double escalate_logprob,
                 const std::vector<double>& bm25, const RankPolicy& policy) {
  if (logprobs.empty()) return -1;
  const bool have_bm25 = bm25.size() == logprobs.size();
  int best = 0;
  double best_score = logprobs[0];
  for (size_t i = 1; i < logprobs.size(); ++i) {
    double score = logprobs[i] - policy.rank_prior * static_cast<double>(i);
    if (have_bm25) score -= policy.bm25_weight * (bm25[i] - bm25[0]);
    if (score > best_score) {  // ties keep the better-ranked entry
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  const bool model_escalates = escalate_logprob - logprobs[best] > policy.escalate_margin;
  const bool weak_match = bm25.empty() || bm25[0] > policy.weak_match_bm25;
  return model_escalates && weak_match ? -1 : best;
}

}  // namespace stemma::faqbot
