// Chooses the FAQ reply from the model's likelihoods and the retriever's ranking, instead of
// taking the model's greedy reply. Measured on the demo model (docs/demo-model.md): greedy
// decoding escalates or cites a wrong entry on many phrasings it was not trained on, while the
// retriever's first hit is often right; the two together beat either.
//
//   choice    = argmax_i  logprob(reply citing entry i) - rank_prior * i      (i: retrieval rank)
//   escalate  = logprob(escalation reply) - logprob(choice) > escalate_margin
//               and the first hit's bm25 > weak_match_bm25 (a weak lexical match)
//
// The defaults were chosen by a grid search on the development split only (the eval set's
// "held_out" FAQ questions and data/dev.json's out-of-scope questions; tools/train/
// tune_ranking.py), never on the "fresh" phrasings or eval.json's out-of-scope questions.
#pragma once

#include <string>
#include <vector>

namespace stemma::faqbot {

struct RankPolicy {
  double rank_prior = 3.0;        // nats a lower-ranked entry must win by, per rank
  double escalate_margin = -2.0;  // escalate if the escalation is at most this much less likely
  double weak_match_bm25 = -7.0;  // ... and the retriever's best bm25 is above this
};

// What the ranking saw and chose, for one turn.
struct RankedReply {
  std::vector<std::string> ids;  // the retrieved entries, best first
  std::vector<double> bm25;      // their retrieval scores (lower: better match)
  std::vector<double> logprobs;  // log p(the reply citing entry i | prompt)
  double escalate_logprob = 0;   // log p(the escalation reply | prompt)
  int chosen = -1;               // index into ids; -1: escalated
};

// The index of the entry to answer with, or -1 to escalate (always -1 without entries).
int choose_reply(const std::vector<double>& logprobs, double escalate_logprob,
                 const std::vector<double>& bm25, const RankPolicy& policy);

}  // namespace stemma::faqbot
