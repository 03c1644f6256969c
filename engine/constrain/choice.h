// Choosing among literal strings (SGLang's `select`) by model likelihood. The constraint side
// is CompiledConstraint::from_choices (a regex alternation); this side scores the choices from
// log-probabilities the caller computed for each choice's tokens. The types and the function
// are part of the public API (engine/api/constraint_text.h); constrain:: names them too.
#pragma once

#include "engine/api/constraint_text.h"

namespace stemma::constrain {

using stemma::ChoiceRule;
using stemma::ChoiceScores;
using stemma::score_choices;

}  // namespace stemma::constrain
