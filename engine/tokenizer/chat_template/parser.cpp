#include "engine/tokenizer/chat_template/parser.h"

#include <cctype>

#include "engine/tokenizer/utf8.h"

namespace stemma::jinja {
namespace {

struct Token {
  enum class Kind { kName, kString, kInt, kFloat, kOp, kEnd };
  Kind kind;
  std::string text;
  int line, col;
};

// One piece of the source: text, a {{ }} with its tokens, or a {% %} with its tokens.
struct Piece {
  enum class Kind { kText, kOutput, kStatement };
  Kind kind;
  std::string text;
  std::vector<Token> tokens;
  int line, col;
};

class Lexer {
 public:
  explicit Lexer(const std::string& src) : src_(src) {}

  Result<std::vector<Piece>> run() {
    std::vector<Piece> pieces;
    bool strip_next = false;  // previous tag ended with -
    bool trim_next = false;   // previous tag was a block/comment (trim_blocks)
    while (pos_ < src_.size()) {
      size_t open = find_open(pos_);
      std::string text = src_.substr(pos_, open - pos_);
      const int text_line = line_, text_col = col_;
      advance_to(open);
      if (trim_next && !text.empty() && text[0] == '\n') text.erase(0, 1);
      if (strip_next) {
        size_t k = 0;
        while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
        text.erase(0, k);
      }
      strip_next = trim_next = false;
      if (open >= src_.size()) {
        if (!text.empty()) pieces.push_back({Piece::Kind::kText, text, {}, text_line, text_col});
        break;
      }
      const char kind = src_[open + 1];  // '{', '%' or '#'
      const bool minus = open + 2 < src_.size() && src_[open + 2] == '-';
      const bool plus = open + 2 < src_.size() && src_[open + 2] == '+';
      if (minus) {
        size_t k = text.size();
        while (k > 0 && std::isspace(static_cast<unsigned char>(text[k - 1]))) --k;
        text.erase(k);
      } else if (kind != '{' && !plus) {
        // lstrip_blocks: spaces and tabs between the line start and a block tag go.
        size_t k = text.size();
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
        bool line_start;
        if (k > 0) {
          line_start = text[k - 1] == '\n';
        } else {
          // `text` is a suffix of the source before the tag; look at what precedes it there.
          const size_t start = open - text.size();
          line_start = start == 0 || src_[start - 1] == '\n';
        }
        if (line_start) text.erase(k);
      }
      if (!text.empty()) pieces.push_back({Piece::Kind::kText, text, {}, text_line, text_col});
      const int tag_line = line_, tag_col = col_;
      advance_to(open + 2 + ((minus || plus) ? 1 : 0));
      if (kind == '#') {
        const size_t close = src_.find("#}", pos_);
        if (close == std::string::npos) return error(tag_line, tag_col, "unclosed comment");
        strip_next = close > 0 && src_[close - 1] == '-';
        advance_to(close + 2);
        trim_next = true;
        continue;
      }
      Piece piece{
          kind == '{' ? Piece::Kind::kOutput : Piece::Kind::kStatement, "", {}, tag_line, tag_col};
      const std::string closer = kind == '{' ? "}}" : "%}";
      bool closed = false;
      while (pos_ < src_.size()) {
        skip_space();
        if (pos_ >= src_.size()) break;
        if (src_[pos_] == '-' && src_.compare(pos_ + 1, 2, closer) == 0) {
          strip_next = true;
          advance_to(pos_ + 3);
          closed = true;
          break;
        }
        if (src_[pos_] == '+' && src_.compare(pos_ + 1, 2, closer) == 0) {
          advance_to(pos_ + 3);
          closed = true;
          break;
        }
        if (src_.compare(pos_, 2, closer) == 0) {
          advance_to(pos_ + 2);
          closed = true;
          trim_next = kind == '%';
          break;
        }
        STEMMA_ASSIGN_OR_RETURN(Token t, next_token());
        piece.tokens.push_back(std::move(t));
        if (piece.tokens.size() > 4096) {
          return error(tag_line, tag_col, "tag longer than 4096 tokens");
        }
      }
      if (!closed) {
        return error(tag_line, tag_col,
                     std::string("unclosed '") + (kind == '{' ? "{{" : "{%") + "' (expected '" +
                         closer + "')");
      }
      piece.tokens.push_back({Token::Kind::kEnd, "", line_, col_});
      pieces.push_back(std::move(piece));
    }
    return pieces;
  }

 private:
  Status error(int line, int col, const std::string& msg) {
    return InvalidArgument("template:" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           msg);
  }

  size_t find_open(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return src_.size();
  }

  void advance_to(size_t target) {
    while (pos_ < target && pos_ < src_.size()) {
      if (src_[pos_] == '\n') {
        ++line_;
        col_ = 1;
      } else if ((static_cast<unsigned char>(src_[pos_]) & 0xC0) != 0x80) {
        ++col_;
      }
      ++pos_;
    }
  }

  void skip_space() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) {
      advance_to(pos_ + 1);
    }
  }

  Result<Token> next_token() {
    const int line = line_, col = col_;
    const char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = pos_;
      while (e < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) {
        ++e;
      }
      Token t{Token::Kind::kName, src_.substr(pos_, e - pos_), line, col};
      advance_to(e);
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t e = pos_;
      bool is_float = false;
      while (e < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_' ||
              (src_[e] == '.' && !is_float && e + 1 < src_.size() &&
               std::isdigit(static_cast<unsigned char>(src_[e + 1]))))) {
        if (src_[e] == '.') is_float = true;
        ++e;
      }
      // An exponent makes it a float: 1e3, 2.5E-4.
      if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
        size_t x = e + 1;
        if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
        if (x < src_.size() && std::isdigit(static_cast<unsigned char>(src_[x]))) {
          while (x < src_.size() && std::isdigit(static_cast<unsigned char>(src_[x]))) ++x;
          e = x;
          is_float = true;
        }
      }
      std::string text;
      for (size_t i = pos_; i < e; ++i) {
        if (src_[i] != '_') text += src_[i];
      }
      advance_to(e);
      return Token{is_float ? Token::Kind::kFloat : Token::Kind::kInt, text, line, col};
    }
    if (c == '\'' || c == '"') {
      std::string out;
      size_t i = pos_ + 1;
      while (i < src_.size() && src_[i] != c) {
        if (src_[i] == '\\' && i + 1 < src_.size()) {
          const char n = src_[i + 1];
          switch (n) {
            case 'n':
              out += '\n';
              break;
            case 't':
              out += '\t';
              break;
            case 'r':
              out += '\r';
              break;
            case '\\':
              out += '\\';
              break;
            case '\'':
              out += '\'';
              break;
            case '"':
              out += '"';
              break;
            case '\n':
              break;  // line continuation
            case 'u':
            case 'x': {
              const size_t len = n == 'u' ? 4 : 2;
              if (i + 2 + len > src_.size()) return error(line, col, "bad escape in string");
              const char32_t cp =
                  static_cast<char32_t>(std::stoul(src_.substr(i + 2, len), nullptr, 16));
              utf8::append(&out, cp);
              i += len;
              break;
            }
            default:
              out += '\\';
              out += n;
          }
          i += 2;
          continue;
        }
        out += src_[i++];
      }
      if (i >= src_.size()) return error(line, col, "unterminated string literal");
      advance_to(i + 1);
      return Token{Token::Kind::kString, out, line, col};
    }
    static const char* kOps[] = {"==", "!=", "<=", ">=", "//", "**", "<", ">", "+",
                                 "-",  "*",  "/",  "%",  "~",  "|",  ".", ",", ":",
                                 "(",  ")",  "[",  "]",  "{",  "}",  "="};
    for (const char* op : kOps) {
      const size_t n = std::char_traits<char>::length(op);
      if (src_.compare(pos_, n, op) == 0) {
        advance_to(pos_ + n);
        return Token{Token::Kind::kOp, op, line, col};
      }
    }
    return error(line, col, std::string("unexpected character '") + c + "'");
  }

  const std::string& src_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

class Parser {
 public:
  explicit Parser(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  Result<Body> run() {
    Body body;
    std::string end;
    STEMMA_RETURN_IF_ERROR(parse_body(&body, {}, &end));
    return body;
  }

 private:
  Status error_at(int line, int col, const std::string& msg) const {
    return InvalidArgument("template:" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           msg);
  }
  Status error(const std::string& msg) const {
    const Token& t = tok();
    return error_at(t.line, t.col, msg);
  }

  // Parses nodes until a statement whose keyword is in `ends` (returned in *end) or the end.
  Status parse_body(Body* body, const std::vector<std::string>& ends, std::string* end) {
    while (index_ < pieces_.size()) {
      Piece& p = pieces_[index_];
      if (p.kind == Piece::Kind::kText) {
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kText;
        n->text = p.text;
        body->push_back(std::move(n));
        ++index_;
        continue;
      }
      tokens_ = &p.tokens;
      t_ = 0;
      if (p.kind == Piece::Kind::kOutput) {
        ++index_;
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kOutput;
        n->line = p.line;
        n->col = p.col;
        STEMMA_ASSIGN_OR_RETURN(n->expr, parse_expr());
        STEMMA_RETURN_IF_ERROR(expect_end());
        body->push_back(std::move(n));
        continue;
      }
      if (tok().kind != Token::Kind::kName) return error("expected a statement keyword");
      const std::string kw = tok().text;
      for (const auto& e : ends) {
        if (kw == e) {
          *end = kw;
          return OkStatus();  // the caller consumes it
        }
      }
      ++index_;
      ++t_;
      STEMMA_ASSIGN_OR_RETURN(NodePtr n, parse_statement(kw, p.line, p.col));
      if (n) body->push_back(std::move(n));
    }
    if (!ends.empty()) {
      const Piece& last = pieces_.empty() ? Piece{} : pieces_.back();
      return error_at(last.line, last.col,
                      "unexpected end of template: missing '{% " + ends.back() + " %}'");
    }
    return OkStatus();
  }

  // After parse_body stopped at `end`, consume that tag (it may carry an expression: elif).
  void enter_current_tag() {
    tokens_ = &pieces_[index_].tokens;
    t_ = 1;
    ++index_;
  }

  Result<NodePtr> parse_statement(const std::string& kw, int line, int col) {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return Result<NodePtr>(error_at(line, col, "blocks nested too deeply"));
    auto n = std::make_unique<Node>();
    n->line = line;
    n->col = col;
    if (kw == "if") {
      n->kind = Node::Kind::kIf;
      STEMMA_ASSIGN_OR_RETURN(ExprPtr cond, parse_expr());
      STEMMA_RETURN_IF_ERROR(expect_end());
      while (true) {
        Body body;
        std::string end;
        STEMMA_RETURN_IF_ERROR(parse_body(&body, {"elif", "else", "endif"}, &end));
        n->branches.emplace_back(std::move(cond), std::move(body));
        enter_current_tag();
        if (end == "elif") {
          STEMMA_ASSIGN_OR_RETURN(cond, parse_expr());
          STEMMA_RETURN_IF_ERROR(expect_end());
          continue;
        }
        STEMMA_RETURN_IF_ERROR(expect_end());
        if (end == "else") {
          STEMMA_RETURN_IF_ERROR(parse_body(&n->else_body, {"endif"}, &end));
          enter_current_tag();
          STEMMA_RETURN_IF_ERROR(expect_end());
        }
        break;
      }
      return n;
    }
    if (kw == "for") {
      n->kind = Node::Kind::kFor;
      do {
        if (tok().kind != Token::Kind::kName)
          return Result<NodePtr>(error("expected a loop variable"));
        n->targets.push_back(tok().text);
        ++t_;
      } while (accept(","));
      if (!accept_name("in")) return Result<NodePtr>(error("expected 'in' in for loop"));
      STEMMA_ASSIGN_OR_RETURN(n->expr, parse_or());
      if (accept_name("if")) {
        STEMMA_ASSIGN_OR_RETURN(n->filter, parse_expr());
      }
      if (accept_name("recursive")) return Result<NodePtr>(error("unsupported: recursive loops"));
      STEMMA_RETURN_IF_ERROR(expect_end());
      std::string end;
      STEMMA_RETURN_IF_ERROR(parse_body(&n->body, {"else", "endfor"}, &end));
      enter_current_tag();
      STEMMA_RETURN_IF_ERROR(expect_end());
      if (end == "else") {
        STEMMA_RETURN_IF_ERROR(parse_body(&n->else_body, {"endfor"}, &end));
        enter_current_tag();
        STEMMA_RETURN_IF_ERROR(expect_end());
      }
      return n;
    }
    if (kw == "set") {
      if (tok().kind != Token::Kind::kName)
        return Result<NodePtr>(error("expected a name after 'set'"));
      n->targets.push_back(tok().text);
      ++t_;
      if (accept(".")) {
        if (tok().kind != Token::Kind::kName)
          return Result<NodePtr>(error("expected an attribute name"));
        n->targets.push_back(tok().text);
        ++t_;
      }
      if (accept("=")) {
        n->kind = Node::Kind::kSet;
        STEMMA_ASSIGN_OR_RETURN(n->expr, parse_expr());
        STEMMA_RETURN_IF_ERROR(expect_end());
        return n;
      }
      n->kind = Node::Kind::kSetBlock;
      STEMMA_RETURN_IF_ERROR(expect_end());
      std::string end;
      STEMMA_RETURN_IF_ERROR(parse_body(&n->body, {"endset"}, &end));
      enter_current_tag();
      STEMMA_RETURN_IF_ERROR(expect_end());
      return n;
    }
    if (kw == "macro") {
      n->kind = Node::Kind::kMacro;
      if (tok().kind != Token::Kind::kName) return Result<NodePtr>(error("expected a macro name"));
      n->targets.push_back(tok().text);
      ++t_;
      if (!accept("(")) return Result<NodePtr>(error("expected '(' after the macro name"));
      while (!accept(")")) {
        if (tok().kind != Token::Kind::kName)
          return Result<NodePtr>(error("expected a parameter name"));
        std::string name = tok().text;
        ++t_;
        ExprPtr def;
        if (accept("=")) {
          STEMMA_ASSIGN_OR_RETURN(def, parse_expr());
        }
        n->params.emplace_back(name, std::move(def));
        if (!accept(",") && !(tok().kind == Token::Kind::kOp && tok().text == ")")) {
          return Result<NodePtr>(error("expected ',' or ')' in macro parameters"));
        }
      }
      STEMMA_RETURN_IF_ERROR(expect_end());
      std::string end;
      STEMMA_RETURN_IF_ERROR(parse_body(&n->body, {"endmacro"}, &end));
      enter_current_tag();
      STEMMA_RETURN_IF_ERROR(expect_end());
      return n;
    }
    if (kw == "break" || kw == "continue") {
      n->kind = kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      STEMMA_RETURN_IF_ERROR(expect_end());
      return n;
    }
    if (kw == "generation") {
      // HF's AssistantTracker block: renders its body unchanged.
      STEMMA_RETURN_IF_ERROR(expect_end());
      n->kind = Node::Kind::kIf;
      auto yes = std::make_unique<Expr>();
      yes->kind = Expr::Kind::kLiteral;
      yes->literal = Value::boolean(true);
      Body body;
      std::string end;
      STEMMA_RETURN_IF_ERROR(parse_body(&body, {"endgeneration"}, &end));
      enter_current_tag();
      STEMMA_RETURN_IF_ERROR(expect_end());
      n->branches.emplace_back(std::move(yes), std::move(body));
      return n;
    }
    return Result<NodePtr>(error_at(line, col, "unsupported statement '" + kw + "'"));
  }

  const Token& tok() const { return (*tokens_)[t_]; }
  bool is_op(const char* op) const { return tok().kind == Token::Kind::kOp && tok().text == op; }
  bool accept(const char* op) {
    if (!is_op(op)) return false;
    ++t_;
    return true;
  }
  bool accept_name(const char* name) {
    if (tok().kind != Token::Kind::kName || tok().text != name) return false;
    ++t_;
    return true;
  }
  Status expect(const char* op) {
    if (accept(op)) return OkStatus();
    return error(std::string("expected '") + op + "', found " + describe());
  }
  Status expect_end() {
    if (tok().kind == Token::Kind::kEnd) return OkStatus();
    return error("unexpected " + describe() + " (expected the end of the tag)");
  }
  std::string describe() const {
    if (tok().kind == Token::Kind::kEnd) return "end of tag";
    return "'" + tok().text + "'";
  }

  ExprPtr make(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = tok().line;
    e->col = tok().col;
    return e;
  }

  // Nesting bound: bad input must get an error, not exhaust the stack.
  struct DepthGuard {
    int* depth;
    explicit DepthGuard(int* d) : depth(d) { ++*depth; }
    ~DepthGuard() { --*depth; }
  };
  static constexpr int kMaxDepth = 128;

  Result<ExprPtr> parse_expr() {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return Result<ExprPtr>(error("expression nested too deeply"));
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (accept_name("if")) {
      auto c = make(Expr::Kind::kCond);
      STEMMA_ASSIGN_OR_RETURN(c->c, parse_or());
      c->a = std::move(e);
      if (accept_name("else")) {
        STEMMA_ASSIGN_OR_RETURN(c->b, parse_expr());
      }
      e = std::move(c);
    }
    return e;
  }

  Result<ExprPtr> binary(ExprPtr a, const std::string& op, ExprPtr b) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->line = a->line;
    e->col = a->col;
    e->name = op;
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  Result<ExprPtr> parse_or() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_and());
    while (accept_name("or")) {
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), "or", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_and() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_not());
    while (accept_name("and")) {
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), "and", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_not() {
    if (tok().kind == Token::Kind::kName && tok().text == "not") {
      auto e = make(Expr::Kind::kUnary);
      ++t_;
      e->name = "not";
      STEMMA_ASSIGN_OR_RETURN(e->a, parse_not());
      return e;
    }
    return parse_compare();
  }
  Result<ExprPtr> parse_compare() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_math1());
    while (true) {
      std::string op;
      if (tok().kind == Token::Kind::kOp &&
          (tok().text == "==" || tok().text == "!=" || tok().text == "<" || tok().text == ">" ||
           tok().text == "<=" || tok().text == ">=")) {
        op = tok().text;
        ++t_;
      } else if (accept_name("in")) {
        op = "in";
      } else if (tok().kind == Token::Kind::kName && tok().text == "not" &&
                 (*tokens_)[t_ + 1].kind == Token::Kind::kName && (*tokens_)[t_ + 1].text == "in") {
        t_ += 2;
        op = "not in";
      } else {
        break;
      }
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_math1());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), op, std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_math1() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_concat());
    while (is_op("+") || is_op("-")) {
      const std::string op = tok().text;
      ++t_;
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_concat());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), op, std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_concat() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_math2());
    while (accept("~")) {
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_math2());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), "~", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_math2() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_pow());
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = tok().text;
      ++t_;
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_pow());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), op, std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> parse_pow() {
    STEMMA_ASSIGN_OR_RETURN(ExprPtr e, parse_unary());
    while (accept("**")) {
      STEMMA_ASSIGN_OR_RETURN(ExprPtr r, parse_unary());
      STEMMA_ASSIGN_OR_RETURN(e, binary(std::move(e), "**", std::move(r)));
    }
    return e;
  }
  // Jinja binds unary minus tighter than filters: `-3|abs` is `(-3)|abs`.
  Result<ExprPtr> parse_unary(bool with_filters = true) {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) return Result<ExprPtr>(error("expression nested too deeply"));
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make(Expr::Kind::kUnary);
      e->name = tok().text;
      ++t_;
      STEMMA_ASSIGN_OR_RETURN(e->a, parse_unary(false));
    } else {
      STEMMA_ASSIGN_OR_RETURN(e, parse_primary());
      STEMMA_ASSIGN_OR_RETURN(e, parse_postfix(std::move(e)));
    }
    if (!with_filters) return e;
    return parse_filters(std::move(e));
  }

  Status parse_call_args(Expr* call) {
    while (!accept(")")) {
      if (tok().kind == Token::Kind::kName && (*tokens_)[t_ + 1].kind == Token::Kind::kOp &&
          (*tokens_)[t_ + 1].text == "=") {
        std::string name = tok().text;
        t_ += 2;
        STEMMA_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
        call->kwargs.emplace_back(name, std::move(v));
      } else {
        STEMMA_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
        call->items.push_back(std::move(v));
      }
      if (!accept(",") && !is_op(")"))
        return error("expected ',' or ')' in arguments, found " + describe());
    }
    return OkStatus();
  }

  Result<ExprPtr> parse_postfix(ExprPtr e) {
    while (true) {
      if (accept(".")) {
        if (tok().kind != Token::Kind::kName && tok().kind != Token::Kind::kInt) {
          return Result<ExprPtr>(error("expected an attribute name after '.'"));
        }
        auto a = make(Expr::Kind::kAttr);
        a->name = tok().text;
        ++t_;
        a->a = std::move(e);
        e = std::move(a);
      } else if (is_op("[")) {
        auto s = make(Expr::Kind::kSubscript);
        ++t_;
        ExprPtr parts[3];
        int n = 0;
        bool slice = false;
        while (true) {
          if (is_op(":")) {
            slice = true;
            ++t_;
            if (++n > 2) return Result<ExprPtr>(error("too many ':' in slice"));
            continue;
          }
          if (is_op("]")) break;
          STEMMA_ASSIGN_OR_RETURN(parts[n], parse_expr());
          if (!is_op(":") && !is_op("]"))
            return Result<ExprPtr>(error("expected ']' , found " + describe()));
        }
        ++t_;
        s->a = std::move(e);
        if (slice) {
          s->kind = Expr::Kind::kSlice;
          for (auto& p : parts) s->items.push_back(std::move(p));
        } else {
          if (!parts[0]) return Result<ExprPtr>(error("empty subscript"));
          s->b = std::move(parts[0]);
        }
        e = std::move(s);
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::kCall);
        ++t_;
        c->a = std::move(e);
        STEMMA_RETURN_IF_ERROR(parse_call_args(c.get()));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> parse_filters(ExprPtr e) {
    while (true) {
      if (accept("|")) {
        if (tok().kind != Token::Kind::kName)
          return Result<ExprPtr>(error("expected a filter name after '|'"));
        auto f = make(Expr::Kind::kFilter);
        f->name = tok().text;
        ++t_;
        while (accept(".")) {  // dotted filter names
          f->name += "." + tok().text;
          ++t_;
        }
        f->a = std::move(e);
        if (accept("(")) STEMMA_RETURN_IF_ERROR(parse_call_args(f.get()));
        e = std::move(f);
      } else if (tok().kind == Token::Kind::kName && tok().text == "is") {
        auto tst = make(Expr::Kind::kTest);
        ++t_;
        if (accept_name("not")) tst->negated = true;
        if (tok().kind != Token::Kind::kName)
          return Result<ExprPtr>(error("expected a test name after 'is'"));
        tst->name = tok().text;
        ++t_;
        tst->a = std::move(e);
        if (accept("(")) {
          STEMMA_RETURN_IF_ERROR(parse_call_args(tst.get()));
        } else if (tok().kind == Token::Kind::kString || tok().kind == Token::Kind::kInt ||
                   tok().kind == Token::Kind::kFloat ||
                   (tok().kind == Token::Kind::kName && tok().text != "and" && tok().text != "or" &&
                    tok().text != "else" && tok().text != "if" && tok().text != "in" &&
                    tok().text != "not" && tok().text != "is")) {
          STEMMA_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
          tst->items.push_back(std::move(arg));
        }
        e = std::move(tst);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> parse_primary() {
    const Token& t = tok();
    if (t.kind == Token::Kind::kString) {
      auto e = make(Expr::Kind::kLiteral);
      std::string s = t.text;
      ++t_;
      while (tok().kind == Token::Kind::kString) {  // adjacent literals concatenate
        s += tok().text;
        ++t_;
      }
      e->literal = Value::string(s);
      return e;
    }
    if (t.kind == Token::Kind::kInt || t.kind == Token::Kind::kFloat) {
      auto e = make(Expr::Kind::kLiteral);
      e->literal = t.kind == Token::Kind::kInt ? Value::integer(std::stoll(t.text))
                                               : Value::floating(std::stod(t.text));
      ++t_;
      return e;
    }
    if (t.kind == Token::Kind::kName) {
      auto e = make(Expr::Kind::kName);
      const std::string& n = t.text;
      if (n == "true" || n == "True" || n == "false" || n == "False") {
        e->kind = Expr::Kind::kLiteral;
        e->literal = Value::boolean(n == "true" || n == "True");
      } else if (n == "none" || n == "None") {
        e->kind = Expr::Kind::kLiteral;
        e->literal = Value::none();
      } else {
        e->name = n;
      }
      ++t_;
      return e;
    }
    if (is_op("(")) {
      ++t_;
      STEMMA_ASSIGN_OR_RETURN(ExprPtr first, parse_expr());
      if (accept(")")) return first;
      auto tuple = make(Expr::Kind::kTuple);
      tuple->items.push_back(std::move(first));
      while (accept(",")) {
        if (is_op(")")) break;
        STEMMA_ASSIGN_OR_RETURN(ExprPtr item, parse_expr());
        tuple->items.push_back(std::move(item));
      }
      STEMMA_RETURN_IF_ERROR(expect(")"));
      return tuple;
    }
    if (is_op("[")) {
      auto list = make(Expr::Kind::kList);
      ++t_;
      while (!accept("]")) {
        STEMMA_ASSIGN_OR_RETURN(ExprPtr item, parse_expr());
        list->items.push_back(std::move(item));
        if (!accept(",") && !is_op("]"))
          return Result<ExprPtr>(error("expected ',' or ']' in list, found " + describe()));
      }
      return list;
    }
    if (is_op("{")) {
      auto dict = make(Expr::Kind::kDict);
      ++t_;
      while (!accept("}")) {
        STEMMA_ASSIGN_OR_RETURN(ExprPtr key, parse_expr());
        STEMMA_RETURN_IF_ERROR(expect(":"));
        STEMMA_ASSIGN_OR_RETURN(ExprPtr value, parse_expr());
        dict->items.push_back(std::move(key));
        dict->items.push_back(std::move(value));
        if (!accept(",") && !is_op("}"))
          return Result<ExprPtr>(error("expected ',' or '}' in dict, found " + describe()));
      }
      return dict;
    }
    return Result<ExprPtr>(error("unexpected " + describe()));
  }

  std::vector<Piece> pieces_;
  size_t index_ = 0;
  std::vector<Token>* tokens_ = nullptr;
  size_t t_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Body> parse_template(const std::string& source) {
  // keep_trailing_newline=False: one trailing newline of the source is dropped.
  std::string src = source;
  if (!src.empty() && src.back() == '\n') {
    src.pop_back();
    if (!src.empty() && src.back() == '\r') src.pop_back();
  }
  Lexer lexer(src);
  STEMMA_ASSIGN_OR_RETURN(std::vector<Piece> pieces, lexer.run());
  Parser parser(std::move(pieces));
  return parser.run();
}

}  // namespace stemma::jinja
