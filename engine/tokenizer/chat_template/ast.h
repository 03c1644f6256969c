// The syntax tree of a parsed template: expressions and statements, each with the line and
// column it came from (for error messages).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tokenizer/chat_template/value.h"

namespace stemma::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,
    kName,
    kList,
    kTuple,
    kDict,
    kAttr,
    kSubscript,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kUnary,
    kBinary,
    kCond
  };
  Kind kind;
  int line = 0, col = 0;
  Value literal;
  std::string name;            // name, attribute, filter, test or operator
  std::vector<ExprPtr> items;  // list/tuple items, dict keys+values alternating, call args,
                               // slice parts (null when omitted)
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr a, b, c;       // operands / object / condition
  bool negated = false;  // `is not`
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kBreak, kContinue };
  Kind kind;
  int line = 0, col = 0;
  std::string text;                                     // kText
  ExprPtr expr;                                         // output / set value / for iterable
  std::vector<std::pair<ExprPtr, Body>> branches;       // if/elif
  Body body, else_body;                                 // for/macro/set-block bodies
  std::vector<std::string> targets;                     // for targets; set: name [, attr]
  ExprPtr filter;                                       // for ... if cond
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro parameters and defaults
};

}  // namespace stemma::jinja
