#include "engine/tokenizer/chat_template/interpreter.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>

#include "engine/tokenizer/chat_template/checked_int.h"
#include "engine/tokenizer/utf8.h"

namespace stemma::jinja {
namespace {

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    size_t len = 0;
    utf8::decode(s, pos, &len);
    out.push_back(s.substr(pos, len));
    pos += len;
  }
  return out;
}

bool is_py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string strip_chars(const std::string& s, const Value& chars, bool left, bool right) {
  auto in_set = [&](char c) {
    return chars.is_string() ? chars.as_string().find(c) != std::string::npos : is_py_space(c);
  };
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && in_set(s[b])) ++b;
  if (right)
    while (e > b && in_set(s[e - 1])) --e;
  return s.substr(b, e - b);
}

struct LoopControl {
  enum class Kind { kNone, kBreak, kContinue } kind = Kind::kNone;
};

constexpr int kMaxValueDepth = 256;  // lists and dicts inside each other

class Interpreter {
 public:
  Interpreter(const ValueDict& globals, const RenderLimits& limits) : limits_(limits) {
    scopes_.emplace_back();
    for (const auto& [k, v] : globals) scopes_.back()[k] = v;
    install_builtins();
  }

  Result<std::string> run(const Body& body) {
    std::string out;
    LoopControl lc;
    STEMMA_RETURN_IF_ERROR(exec_body(body, &out, &lc));
    return out;
  }

 private:
  using Scope = std::map<std::string, Value>;

  Status err(int line, int col, const std::string& msg) const {
    return InvalidArgument("template:" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           msg);
  }
  Status err(const Expr& e, const std::string& msg) const { return err(e.line, e.col, msg); }

  // The step budget: every statement and expression costs one step, building strings and
  // lists costs more (see RenderLimits); the cancel flag is read every 4096 steps.
  Status charge(int64_t steps) {
    steps_ += steps;
    if (steps_ > limits_.max_steps) {
      return ResourceExhausted("template: rendering took more than " +
                               std::to_string(limits_.max_steps) +
                               " steps (RenderLimits::max_steps; a loop that never ends?)");
    }
    if (limits_.cancel != nullptr && (steps_ >> 12) != (last_cancel_check_ >> 12)) {
      last_cancel_check_ = steps_;
      if (limits_.cancel->load(std::memory_order_relaxed)) {
        return Cancelled("template: rendering cancelled");
      }
    }
    return OkStatus();
  }
  // A string the template built: within max_bytes, and paid for by its size.
  Result<Value> make_string(const Expr& e, std::string s) {
    if (s.size() > limits_.max_bytes) return too_big(e, s.size());
    STEMMA_RETURN_IF_ERROR(charge(static_cast<int64_t>(s.size() / 64)));
    return Value::string(std::move(s));
  }
  Status too_big(const Expr& e, size_t bytes) const {
    return ResourceExhausted(
        "template:" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": a string of " +
        std::to_string(bytes) +
        " bytes (over RenderLimits::max_bytes = " + std::to_string(limits_.max_bytes) + ")");
  }
  // A list or dict the template built: nested at most kMaxValueDepth deep (a deeper one
  // would make printing, comparing and freeing it recurse without bound).
  Result<Value> make_container(const Expr& e, Value v) {
    STEMMA_RETURN_IF_ERROR(charge(static_cast<int64_t>(v.is_list()   ? v.as_list().size()
                                                       : v.is_dict() ? v.as_dict().size()
                                                                     : 0)));
    if (v.depth() > kMaxValueDepth) {
      return err(e, "lists/dicts nested deeper than " + std::to_string(kMaxValueDepth));
    }
    return v;
  }
  Status checked_output(const std::string& out, int line, int col) const {
    if (out.size() > limits_.max_bytes) {
      return ResourceExhausted("template:" + std::to_string(line) + ":" + std::to_string(col) +
                               ": output over RenderLimits::max_bytes = " +
                               std::to_string(limits_.max_bytes) + " bytes");
    }
    return OkStatus();
  }
  Status overflow(const Expr& e, const std::string& what) const {
    return err(e, "integer overflow in " + what + " (templates compute with 64-bit integers)");
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return Value();
  }

  void install_builtins() {
    auto& g = scopes_.front();
    if (!g.count("raise_exception")) {
      g["raise_exception"] = Value::function("raise_exception", [](CallArgs& a) -> Result<Value> {
        return InvalidArgument("raise_exception: " + a.arg(0, "message").str());
      });
    }
    g["namespace"] = Value::function("namespace", [](CallArgs& a) -> Result<Value> {
      Value ns = Value::dict({}, true);
      if (!a.positional.empty() && a.positional[0].is_dict()) {
        for (const auto& [k, v] : a.positional[0].as_dict()) ns.set(k, v);
      }
      for (auto& [k, v] : a.keyword) ns.set(k, v);
      return ns;
    });
    g["dict"] = Value::function("dict", [](CallArgs& a) -> Result<Value> {
      Value d = Value::dict();
      for (auto& [k, v] : a.keyword) d.set(k, v);
      return d;
    });
    g["range"] = Value::function("range", [this](CallArgs& a) -> Result<Value> {
      int64_t start = 0, stop = 0, step = 1;
      for (const auto& p : a.positional) {
        if (!p.is_int()) return InvalidArgument("range: arguments must be integers");
      }
      if (a.positional.size() == 1) {
        stop = a.positional[0].as_int();
      } else if (a.positional.size() >= 2) {
        start = a.positional[0].as_int();
        stop = a.positional[1].as_int();
        if (a.positional.size() > 2) step = a.positional[2].as_int();
      }
      if (step == 0) return InvalidArgument("range: step must not be zero");
      // The length, computed without overflow: ceil((stop - start) / step) when positive.
      const __int128 span = static_cast<__int128>(stop) - start;
      __int128 count = 0;
      if ((step > 0 && span > 0) || (step < 0 && span < 0)) {
        const __int128 st = step;
        count = (span + st + (step > 0 ? -1 : 1)) / st;
      }
      if (count > 1000000) {
        return InvalidArgument("range: " + std::to_string(static_cast<int64_t>(count)) +
                               " items (at most 1000000)");
      }
      STEMMA_RETURN_IF_ERROR(charge(static_cast<int64_t>(count)));
      ValueList out;
      out.reserve(static_cast<size_t>(count));
      for (int64_t k = 0; k < static_cast<int64_t>(count); ++k) {
        out.push_back(
            Value::integer(static_cast<int64_t>(start + static_cast<__int128>(k) * step)));
      }
      return Value::list(std::move(out));
    });
    if (!g.count("strftime_now")) {
      g["strftime_now"] = Value::function("strftime_now", [](CallArgs& a) -> Result<Value> {
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        char buf[256];
        const size_t n = std::strftime(buf, sizeof buf, a.arg(0, "format").str().c_str(), &tm);
        return Value::string(std::string(buf, n));
      });
    }
  }

  // ---- statements ----

  Status exec_body(const Body& body, std::string* out, LoopControl* lc) {
    for (const auto& n : body) {
      STEMMA_RETURN_IF_ERROR(exec(*n, out, lc));
      if (lc->kind != LoopControl::Kind::kNone) return OkStatus();
    }
    return OkStatus();
  }

  Status assign(const Node& n, Value v) {
    if (n.targets.size() == 2) {
      Value ns = lookup(n.targets[0]);
      if (!ns.is_namespace()) {
        return err(n.line, n.col,
                   "cannot assign attribute '" + n.targets[1] + "' of '" + n.targets[0] +
                       "' (not a namespace)");
      }
      ns.set(n.targets[1], std::move(v));
      return OkStatus();
    }
    scopes_.back()[n.targets[0]] = std::move(v);
    return OkStatus();
  }

  Status exec(const Node& n, std::string* out, LoopControl* lc) {
    STEMMA_RETURN_IF_ERROR(charge(1));
    switch (n.kind) {
      case Node::Kind::kText:
        *out += n.text;
        STEMMA_RETURN_IF_ERROR(charge(static_cast<int64_t>(n.text.size() / 64)));
        return checked_output(*out, n.line, n.col);
      case Node::Kind::kOutput: {
        STEMMA_ASSIGN_OR_RETURN(Value v, eval(*n.expr));
        const std::string text = v.str();
        *out += text;
        STEMMA_RETURN_IF_ERROR(charge(static_cast<int64_t>(text.size() / 64)));
        return checked_output(*out, n.line, n.col);
      }
      case Node::Kind::kIf: {
        for (const auto& [cond, body] : n.branches) {
          STEMMA_ASSIGN_OR_RETURN(Value c, eval(*cond));
          if (c.truthy()) return exec_body(body, out, lc);
        }
        return exec_body(n.else_body, out, lc);
      }
      case Node::Kind::kSet: {
        STEMMA_ASSIGN_OR_RETURN(Value v, eval(*n.expr));
        return assign(n, std::move(v));
      }
      case Node::Kind::kSetBlock: {
        std::string captured;
        LoopControl inner;
        STEMMA_RETURN_IF_ERROR(exec_body(n.body, &captured, &inner));
        return assign(n, Value::string(captured));
      }
      case Node::Kind::kMacro: {
        const Node* macro = &n;
        scopes_.back()[n.targets[0]] = Value::function(
            n.targets[0],
            [this, macro](CallArgs& a) -> Result<Value> { return call_macro(*macro, a); });
        return OkStatus();
      }
      case Node::Kind::kBreak:
        lc->kind = LoopControl::Kind::kBreak;
        return OkStatus();
      case Node::Kind::kContinue:
        lc->kind = LoopControl::Kind::kContinue;
        return OkStatus();
      case Node::Kind::kFor:
        return exec_for(n, out);
    }
    return OkStatus();
  }

  Result<Value> call_macro(const Node& m, CallArgs& a) {
    if (macro_depth_ >= 64) {
      return InvalidArgument("template:" + std::to_string(m.line) + ":" + std::to_string(m.col) +
                             ": macro '" + m.targets[0] + "' recursed deeper than 64 calls");
    }
    struct Depth {
      int* d;
      ~Depth() { --*d; }
    } depth{&macro_depth_};
    ++macro_depth_;
    Scope scope;
    for (size_t i = 0; i < m.params.size(); ++i) {
      Value v = a.arg(i, m.params[i].first);
      if (v.is_undefined() && m.params[i].second) {
        STEMMA_ASSIGN_OR_RETURN(v, eval(*m.params[i].second));
      }
      scope[m.params[i].first] = v;
    }
    // Macros see the template's globals, not the caller's locals.
    std::vector<Scope> saved;
    saved.swap(scopes_);
    scopes_.push_back(saved.front());
    scopes_.push_back(std::move(scope));
    std::string out;
    LoopControl lc;
    Status s = exec_body(m.body, &out, &lc);
    saved.front() = scopes_.front();
    scopes_.swap(saved);
    if (!s.ok()) return s;
    return Value::string(out);
  }

  Status exec_for(const Node& n, std::string* out) {
    STEMMA_ASSIGN_OR_RETURN(Value seq, eval(*n.expr));
    ValueList items;
    if (seq.is_list()) {
      items = seq.as_list();
    } else if (seq.is_dict()) {
      for (const auto& [k, v] : seq.as_dict()) items.push_back(Value::string(k));
    } else if (seq.is_string()) {
      for (auto& c : code_points(seq.as_string())) items.push_back(Value::string(c));
    } else if (!seq.is_undefined()) {
      return err(*n.expr, std::string("'") + seq.type_name() + "' object is not iterable");
    }
    // The loop's own scope: what is set inside stays inside (Jinja scoping).
    auto bind = [&](Scope& scope, const Value& item) -> Status {
      if (n.targets.size() == 1) {
        scope[n.targets[0]] = item;
        return OkStatus();
      }
      if (!item.is_list() || item.as_list().size() != n.targets.size()) {
        return err(n.line, n.col,
                   "cannot unpack " + std::string(item.type_name()) + " into " +
                       std::to_string(n.targets.size()) + " loop variables");
      }
      for (size_t i = 0; i < n.targets.size(); ++i) scope[n.targets[i]] = item.as_list()[i];
      return OkStatus();
    };
    if (n.filter) {
      ValueList kept;
      for (const auto& item : items) {
        scopes_.emplace_back();
        Status s = bind(scopes_.back(), item);
        Result<Value> c = s.ok() ? eval(*n.filter) : Result<Value>(s);
        scopes_.pop_back();
        if (!c.ok()) return c.status();
        if (c->truthy()) kept.push_back(item);
      }
      items.swap(kept);
    }
    if (items.empty()) {
      LoopControl lc;
      return exec_body(n.else_body, out, &lc);
    }
    const auto len = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < len; ++i) {
      scopes_.emplace_back();
      Scope& scope = scopes_.back();
      Value loop = Value::dict();
      loop.set("index0", Value::integer(i));
      loop.set("index", Value::integer(i + 1));
      loop.set("revindex0", Value::integer(len - i - 1));
      loop.set("revindex", Value::integer(len - i));
      loop.set("first", Value::boolean(i == 0));
      loop.set("last", Value::boolean(i == len - 1));
      loop.set("length", Value::integer(len));
      loop.set("previtem", i > 0 ? items[i - 1] : Value());
      loop.set("nextitem", i + 1 < len ? items[i + 1] : Value());
      scope["loop"] = loop;
      Status s = bind(scope, items[i]);
      LoopControl lc;
      if (s.ok()) s = exec_body(n.body, out, &lc);
      scopes_.pop_back();
      STEMMA_RETURN_IF_ERROR(s);
      if (lc.kind == LoopControl::Kind::kBreak) break;
    }
    return OkStatus();
  }

  // ---- expressions ----

  Result<Value> eval(const Expr& e) {
    STEMMA_RETURN_IF_ERROR(charge(1));
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.literal;
      case Expr::Kind::kName:
        return lookup(e.name);
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        ValueList items;
        for (const auto& i : e.items) {
          STEMMA_ASSIGN_OR_RETURN(Value v, eval(*i));
          items.push_back(std::move(v));
        }
        return make_container(e, Value::list(std::move(items)));
      }
      case Expr::Kind::kDict: {
        Value d = Value::dict();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          STEMMA_ASSIGN_OR_RETURN(Value k, eval(*e.items[i]));
          STEMMA_ASSIGN_OR_RETURN(Value v, eval(*e.items[i + 1]));
          if (!k.is_string()) return err(e, "dict keys must be strings here");
          d.set(k.as_string(), std::move(v));
        }
        return make_container(e, d);
      }
      case Expr::Kind::kAttr: {
        STEMMA_ASSIGN_OR_RETURN(Value obj, eval(*e.a));
        if (obj.is_undefined()) return err(e, "'" + describe(*e.a) + "' is undefined");
        if (obj.is_dict()) return obj.get(e.name);
        if (obj.is_list() && !e.name.empty() &&
            std::isdigit(static_cast<unsigned char>(e.name[0]))) {
          size_t i = 0;
          for (char c : e.name) {
            if (c < '0' || c > '9' || i > obj.as_list().size()) return Value();
            i = i * 10 + static_cast<size_t>(c - '0');
          }
          return i < obj.as_list().size() ? obj.as_list()[i] : Value();
        }
        return Value();  // Jinja: a missing attribute is undefined
      }
      case Expr::Kind::kSubscript: {
        STEMMA_ASSIGN_OR_RETURN(Value obj, eval(*e.a));
        STEMMA_ASSIGN_OR_RETURN(Value key, eval(*e.b));
        if (obj.is_undefined()) return err(e, "'" + describe(*e.a) + "' is undefined");
        if (obj.is_dict()) {
          if (!key.is_string()) return Value();
          return obj.get(key.as_string());
        }
        if ((obj.is_list() || obj.is_string()) && key.is_int()) {
          int64_t i = key.as_int();
          if (obj.is_list()) {
            const auto n = static_cast<int64_t>(obj.as_list().size());
            if (i < 0) i += n;
            return i >= 0 && i < n ? obj.as_list()[i] : Value();
          }
          const auto cps = code_points(obj.as_string());
          const auto n = static_cast<int64_t>(cps.size());
          if (i < 0) i += n;
          return i >= 0 && i < n ? Value::string(cps[i]) : Value();
        }
        return Value();
      }
      case Expr::Kind::kSlice:
        return eval_slice(e);
      case Expr::Kind::kCall:
        return eval_call(e);
      case Expr::Kind::kFilter:
        return eval_filter(e);
      case Expr::Kind::kTest: {
        STEMMA_ASSIGN_OR_RETURN(bool r, eval_test(e));
        return Value::boolean(e.negated ? !r : r);
      }
      case Expr::Kind::kUnary: {
        STEMMA_ASSIGN_OR_RETURN(Value v, eval(*e.a));
        if (e.name == "not") return Value::boolean(!v.truthy());
        if (!v.is_number())
          return err(
              e, std::string("bad operand type for unary ") + e.name + ": '" + v.type_name() + "'");
        if (e.name == "+") return v;
        if (v.is_float()) return Value::floating(-v.as_double());
        const auto r = checked::neg(v.as_int());
        if (!r) return overflow(e, "-" + std::to_string(v.as_int()));
        return Value::integer(*r);
      }
      case Expr::Kind::kCond: {
        STEMMA_ASSIGN_OR_RETURN(Value c, eval(*e.c));
        if (c.truthy()) return eval(*e.a);
        if (e.b) return eval(*e.b);
        return Value();
      }
      case Expr::Kind::kBinary:
        return eval_binary(e);
    }
    return Value();
  }

  static std::string describe(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kName:
        return e.name;
      case Expr::Kind::kAttr:
        return describe(*e.a) + "." + e.name;
      case Expr::Kind::kSubscript:
        return describe(*e.a) + "[...]";
      default:
        return "expression";
    }
  }

  Result<Value> eval_slice(const Expr& e) {
    STEMMA_ASSIGN_OR_RETURN(Value obj, eval(*e.a));
    int64_t parts[3] = {0, 0, 1};
    bool given[3] = {false, false, false};
    for (int i = 0; i < 3; ++i) {
      if (!e.items[i]) continue;
      STEMMA_ASSIGN_OR_RETURN(Value v, eval(*e.items[i]));
      if (v.is_none()) continue;
      if (!v.is_int()) return err(e, "slice indices must be integers");
      parts[i] = v.as_int();
      given[i] = true;
    }
    std::vector<Value> src;
    const bool is_str = obj.is_string();
    if (is_str) {
      for (auto& c : code_points(obj.as_string())) src.push_back(Value::string(c));
    } else if (obj.is_list()) {
      src = obj.as_list();
    } else {
      return err(e, std::string("'") + obj.type_name() + "' object is not subscriptable");
    }
    const auto n = static_cast<int64_t>(src.size());
    const int64_t step = parts[2];
    if (step == 0) return err(e, "slice step cannot be zero");
    auto clamp = [&](int64_t v, bool is_given, int64_t def) {
      if (!is_given) return def;
      if (v < 0) v += n;
      if (step > 0) return std::clamp<int64_t>(v, 0, n);
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t start = clamp(parts[0], given[0], step > 0 ? 0 : n - 1);
    const int64_t stop = clamp(parts[1], given[1], step > 0 ? n : -1);
    ValueList out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
      out.push_back(src[i]);
      const auto next = checked::add(i, step);
      if (!next) break;  // past either end of the sequence anyway
      i = *next;
    }
    if (!is_str) return Value::list(std::move(out));
    std::string s;
    for (auto& v : out) s += v.as_string();
    return Value::string(s);
  }

  Result<CallArgs> eval_args(const Expr& e) {
    CallArgs args;
    for (const auto& i : e.items) {
      STEMMA_ASSIGN_OR_RETURN(Value v, eval(*i));
      args.positional.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      STEMMA_ASSIGN_OR_RETURN(Value v, eval(*x));
      args.keyword.emplace_back(k, std::move(v));
    }
    return args;
  }

  Result<Value> eval_call(const Expr& e) {
    STEMMA_ASSIGN_OR_RETURN(CallArgs args, eval_args(e));
    if (e.a->kind == Expr::Kind::kAttr) {
      STEMMA_ASSIGN_OR_RETURN(Value obj, eval(*e.a->a));
      const Value field = obj.is_dict() && !obj.is_namespace() ? Value() : obj.get(e.a->name);
      if (!field.is_function()) return call_method(e, obj, e.a->name, args);
    }
    STEMMA_ASSIGN_OR_RETURN(Value fn, eval(*e.a));
    if (!fn.is_function()) {
      if (fn.is_undefined())
        return err(e, "'" + describe(*e.a) + "' is undefined (called as a function)");
      return err(e, std::string("'") + fn.type_name() + "' object is not callable");
    }
    auto r = fn.as_function()(args);
    if (!r.ok()) {
      const std::string& m = r.status().message();
      if (m.rfind("template:", 0) == 0) return r;
      return err(e, m);
    }
    return r;
  }

  Result<Value> call_method(const Expr& e, const Value& obj, const std::string& name, CallArgs& a) {
    if (obj.is_string()) {
      const std::string& s = obj.as_string();
      if (name == "strip") return Value::string(strip_chars(s, a.arg(0, "chars"), true, true));
      if (name == "lstrip") return Value::string(strip_chars(s, a.arg(0, "chars"), true, false));
      if (name == "rstrip") return Value::string(strip_chars(s, a.arg(0, "chars"), false, true));
      if (name == "upper" || name == "lower") {
        std::string r = s;
        for (auto& c : r)
          c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                                : std::tolower(static_cast<unsigned char>(c)));
        return Value::string(r);
      }
      if (name == "title" || name == "capitalize")
        return Value::string(title_case(s, name == "capitalize"));
      if (name == "startswith" || name == "endswith") {
        const Value p = a.arg(0, "prefix");
        std::vector<std::string> options;
        if (p.is_string())
          options.push_back(p.as_string());
        else if (p.is_list())
          for (auto& v : p.as_list()) options.push_back(v.str());
        else
          return err(e, name + " argument must be str or a tuple of str");
        for (const auto& o : options) {
          if (name == "startswith"
                  ? s.rfind(o, 0) == 0
                  : (s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0)) {
            return Value::boolean(true);
          }
        }
        return Value::boolean(false);
      }
      if (name == "split") return Value::list(split(s, a.arg(0, "sep"), a.arg(1, "maxsplit")));
      if (name == "replace") {
        const Value from = a.arg(0, "old"), to = a.arg(1, "new");
        if (!from.is_string() || !to.is_string())
          return err(e, "replace() arguments must be strings");
        if (!to.as_string().empty() && !from.as_string().empty()) {
          // Bound the result before building it.
          const size_t hits = static_cast<size_t>(count_occurrences(s, from.as_string()));
          const size_t grow = to.as_string().size() > from.as_string().size()
                                  ? hits * (to.as_string().size() - from.as_string().size())
                                  : 0;
          if (s.size() + grow > limits_.max_bytes) return too_big(e, s.size() + grow);
        } else if (from.as_string().empty() && !to.as_string().empty()) {
          return err(e, "replace() with an empty old string is not supported");
        }
        return make_string(e, replace(s, from.as_string(), to.as_string(), a.arg(2, "count")));
      }
      if (name == "find") {
        const size_t p = s.find(a.arg(0, "sub").str());
        return Value::integer(p == std::string::npos ? -1 : static_cast<int64_t>(p));
      }
      if (name == "count") {
        const std::string sub = a.arg(0, "x").str();
        int64_t c = 0;
        for (size_t p = s.find(sub); !sub.empty() && p != std::string::npos;
             p = s.find(sub, p + sub.size()))
          ++c;
        return Value::integer(c);
      }
      if (name == "join") {
        const Value items = a.arg(0, "iterable");
        if (!items.is_list()) return err(e, "join() needs a list");
        std::string r;
        for (size_t i = 0; i < items.as_list().size(); ++i) {
          r += (i ? s : "") + items.as_list()[i].str();
          if (r.size() > limits_.max_bytes) return too_big(e, r.size());
        }
        return make_string(e, std::move(r));
      }
    } else if (obj.is_dict()) {
      if (name == "items" || name == "keys" || name == "values") {
        ValueList out;
        for (const auto& [k, v] : obj.as_dict()) {
          if (name == "items")
            out.push_back(Value::list({Value::string(k), v}));
          else if (name == "keys")
            out.push_back(Value::string(k));
          else
            out.push_back(v);
        }
        return Value::list(std::move(out));
      }
      if (name == "get") {
        const Value k = a.arg(0, "key");
        Value v = k.is_string() ? obj.get(k.as_string()) : Value();
        if (v.is_undefined()) {
          v = a.arg(1, "default");
          if (v.is_undefined()) v = Value::none();
        }
        return v;
      }
    } else if (obj.is_list()) {
      if (name == "append" || name == "pop" || name == "insert" || name == "extend") {
        return err(
            e, "list." + name + "() is not allowed (HF renders templates in an immutable sandbox)");
      }
      if (name == "index") {
        for (size_t i = 0; i < obj.as_list().size(); ++i) {
          if (values_equal(obj.as_list()[i], a.arg(0, "value")))
            return Value::integer(static_cast<int64_t>(i));
        }
        return err(e, "list.index(x): x not in list");
      }
    } else if (obj.is_undefined()) {
      return err(e, "'" + describe(*e.a->a) + "' is undefined (calling ." + name + "())");
    }
    return err(e, std::string("unsupported method '") + name + "' on " + obj.type_name());
  }

  static std::string title_case(const std::string& s, bool capitalize_only) {
    std::string r = s;
    bool start = true;
    for (auto& c : r) {
      const auto u = static_cast<unsigned char>(c);
      if (capitalize_only) {
        c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
        start = false;
        continue;
      }
      if (u >= 0x80) {
        start = false;  // part of a non-ASCII letter: not a word break (its case is kept)
      } else if (std::isalpha(u)) {
        c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
        start = false;
      } else {
        start = true;
      }
    }
    return r;
  }

  static ValueList split(const std::string& s, const Value& sep, const Value& maxsplit) {
    int64_t max = maxsplit.is_int() ? maxsplit.as_int() : -1;
    ValueList out;
    if (!sep.is_string()) {
      size_t i = 0;
      while (true) {
        while (i < s.size() && is_py_space(s[i])) ++i;
        if (i >= s.size()) break;
        if (max == 0) {
          size_t e = s.size();
          while (e > i && is_py_space(s[e - 1])) --e;
          out.push_back(Value::string(s.substr(i, e - i)));
          break;
        }
        size_t j = i;
        while (j < s.size() && !is_py_space(s[j])) ++j;
        out.push_back(Value::string(s.substr(i, j - i)));
        if (max > 0) --max;
        i = j;
      }
      return out;
    }
    const std::string& d = sep.as_string();
    size_t start = 0;
    while (true) {
      const size_t p = d.empty() ? std::string::npos : s.find(d, start);
      if (p == std::string::npos || max == 0) break;
      out.push_back(Value::string(s.substr(start, p - start)));
      start = p + d.size();
      if (max > 0) --max;
    }
    out.push_back(Value::string(s.substr(start)));
    return out;
  }

  static int64_t count_occurrences(const std::string& s, const std::string& sub) {
    int64_t c = 0;
    for (size_t p = s.find(sub); !sub.empty() && p != std::string::npos;
         p = s.find(sub, p + sub.size()))
      ++c;
    return c;
  }

  static std::string replace(const std::string& s, const std::string& from, const std::string& to,
                             const Value& count) {
    int64_t left = count.is_int() ? count.as_int() : -1;
    if (from.empty()) return s;
    std::string r;
    size_t pos = 0;
    while (left != 0) {
      const size_t p = s.find(from, pos);
      if (p == std::string::npos) break;
      r += s.substr(pos, p - pos) + to;
      pos = p + from.size();
      if (left > 0) --left;
    }
    return r + s.substr(pos);
  }

  Result<Value> eval_filter(const Expr& e) {
    STEMMA_ASSIGN_OR_RETURN(Value v, eval(*e.a));
    STEMMA_ASSIGN_OR_RETURN(CallArgs a, eval_args(e));
    const std::string& f = e.name;
    if (f == "trim") return Value::string(strip_chars(v.str(), a.arg(0, "chars"), true, true));
    if (f == "upper" || f == "lower" || f == "title" || f == "capitalize") {
      CallArgs none;
      Value s = Value::string(v.str());
      return call_method(e, s, f, none);
    }
    if (f == "length" || f == "count") {
      if (v.is_string())
        return Value::integer(static_cast<int64_t>(code_points(v.as_string()).size()));
      if (v.is_list()) return Value::integer(static_cast<int64_t>(v.as_list().size()));
      if (v.is_dict()) return Value::integer(static_cast<int64_t>(v.as_dict().size()));
      if (v.is_undefined()) return Value::integer(0);
      return err(e, std::string("object of type '") + v.type_name() + "' has no len()");
    }
    if (f == "tojson") {
      const Value indent = a.arg(0, "indent");
      const Value sort_keys = a.arg(4, "sort_keys");
      if (indent.is_int() && static_cast<uint64_t>(indent.as_int()) > limits_.max_bytes) {
        return too_big(e, static_cast<size_t>(indent.as_int()));
      }
      auto r = to_python_json(v, indent.is_int() ? static_cast<int>(indent.as_int()) : -1,
                              sort_keys.truthy(), limits_.max_bytes);
      if (!r.ok()) return err(e, r.status().message());
      return make_string(e, std::move(*r));
    }
    if (f == "string") return Value::string(v.str());
    if (f == "safe" || f == "e" || f == "escape" || f == "forceescape") {
      if (f == "safe") return v;
      return err(e, "unsupported filter '" + f + "' (autoescape is off in HF templates)");
    }
    if (f == "int") {
      if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
      if (v.is_float()) {
        const auto r = checked::from_double(v.as_double());
        if (!r) return err(e, "int() of " + python_float_repr(v.as_double()));
        return Value::integer(*r);
      }
      if (v.is_string()) {
        try {
          return Value::integer(std::stoll(v.as_string()));
        } catch (...) {
          return Value::integer(0);
        }
      }
      return Value::integer(0);
    }
    if (f == "float") {
      if (v.is_number() || v.is_bool()) return Value::floating(v.as_double());
      try {
        return Value::floating(std::stod(v.str()));
      } catch (...) {
        return Value::floating(0);
      }
    }
    if (f == "abs") {
      if (v.is_int()) {
        const auto r = checked::abs(v.as_int());
        if (!r) return overflow(e, "abs(" + std::to_string(v.as_int()) + ")");
        return Value::integer(*r);
      }
      if (v.is_float()) return Value::floating(std::fabs(v.as_double()));
      return err(e, "abs of a non-number");
    }
    if (f == "list") {
      if (v.is_list()) return v;
      if (v.is_string()) {
        ValueList out;
        for (auto& c : code_points(v.as_string())) out.push_back(Value::string(c));
        return Value::list(out);
      }
      if (v.is_dict()) {
        ValueList out;
        for (auto& [k, x] : v.as_dict()) out.push_back(Value::string(k));
        return Value::list(out);
      }
      return err(e, std::string("'") + v.type_name() + "' object is not iterable");
    }
    if (f == "join") {
      if (!v.is_list()) return err(e, "join needs a list");
      const std::string sep = a.arg(0, "d").is_undefined() ? "" : a.arg(0, "d").str();
      const Value attr = a.arg(1, "attribute");
      std::string r;
      for (size_t i = 0; i < v.as_list().size(); ++i) {
        const Value& item = v.as_list()[i];
        r += (i ? sep : "") + (attr.is_string() ? item.get(attr.as_string()).str() : item.str());
        if (r.size() > limits_.max_bytes) return too_big(e, r.size());
      }
      return make_string(e, std::move(r));
    }
    if (f == "first" || f == "last") {
      if (v.is_list()) {
        if (v.as_list().empty()) return Value();
        return f == "first" ? v.as_list().front() : v.as_list().back();
      }
      if (v.is_string()) {
        auto cps = code_points(v.as_string());
        if (cps.empty()) return Value();
        return Value::string(f == "first" ? cps.front() : cps.back());
      }
      return err(e, "first/last of a non-sequence");
    }
    if (f == "reverse") {
      if (v.is_list()) {
        ValueList r(v.as_list().rbegin(), v.as_list().rend());
        return Value::list(r);
      }
      if (v.is_string()) {
        auto cps = code_points(v.as_string());
        std::string r;
        for (auto it = cps.rbegin(); it != cps.rend(); ++it) r += *it;
        return Value::string(r);
      }
      return err(e, "reverse of a non-sequence");
    }
    if (f == "default" || f == "d") {
      const bool boolean = a.arg(1, "boolean").truthy();
      if (v.is_undefined() || (boolean && !v.truthy())) {
        Value d = a.arg(0, "default_value");
        return d.is_undefined() ? Value::string("") : d;
      }
      return v;
    }
    if (f == "replace") {
      CallArgs m = a;
      Value s = Value::string(v.str());
      return call_method(e, s, "replace", m);
    }
    if (f == "items") {
      CallArgs none;
      return call_method(e, v, "items", none);
    }
    if (f == "selectattr" || f == "rejectattr") {
      if (!v.is_list()) return err(e, f + " needs a list");
      const std::string attr = a.arg(0, "").str();
      const Value test = a.arg(1, "");
      ValueList out;
      for (const auto& item : v.as_list()) {
        const Value field = item.get(attr);
        bool ok;
        if (test.is_undefined()) {
          ok = field.truthy();
        } else {
          CallArgs targs;
          for (size_t i = 2; i < a.positional.size(); ++i)
            targs.positional.push_back(a.positional[i]);
          STEMMA_ASSIGN_OR_RETURN(ok, run_test(e, test.str(), field, targs));
        }
        if (ok == (f == "selectattr")) out.push_back(item);
      }
      return Value::list(out);
    }
    if (f == "map") {
      if (!v.is_list()) return err(e, "map needs a list");
      const Value attr = a.arg(99, "attribute");
      ValueList out;
      for (const auto& item : v.as_list()) {
        if (attr.is_string()) {
          out.push_back(item.get(attr.as_string()));
        } else {
          Expr fake;
          fake.kind = Expr::Kind::kFilter;
          fake.line = e.line;
          fake.col = e.col;
          return err(e, "unsupported: map with a filter name (only map(attribute=...))");
        }
      }
      return Value::list(out);
    }
    if (f == "unique") {
      if (!v.is_list()) return err(e, "unique needs a list");
      ValueList out;
      for (const auto& item : v.as_list()) {
        bool seen = false;
        for (const auto& o : out) seen = seen || values_equal(o, item);
        if (!seen) out.push_back(item);
      }
      return Value::list(out);
    }
    if (f == "indent") {
      const int64_t width = a.arg(0, "width").is_int() ? a.arg(0, "width").as_int() : 4;
      const bool first = a.arg(1, "first").truthy();
      const bool blank = a.arg(2, "blank").truthy();
      const std::string s = v.str();
      const int64_t lines = 1 + std::count(s.begin(), s.end(), '\n');
      const auto pad_bytes = checked::mul(std::max<int64_t>(0, width), lines);
      if (!pad_bytes || static_cast<uint64_t>(*pad_bytes) + s.size() > limits_.max_bytes) {
        return too_big(e, pad_bytes ? static_cast<size_t>(*pad_bytes) + s.size() : SIZE_MAX);
      }
      const std::string pad(static_cast<size_t>(std::max<int64_t>(0, width)), ' ');
      std::string r;
      size_t start = 0;
      bool is_first = true;
      while (true) {
        const size_t nl = s.find('\n', start);
        const std::string line =
            s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if ((is_first && first) || (!is_first && (blank || !line.empty()))) r += pad;
        r += line;
        if (nl == std::string::npos) break;
        r += '\n';
        start = nl + 1;
        is_first = false;
      }
      return make_string(e, std::move(r));
    }
    if (f == "round") {
      const int64_t prec = a.arg(0, "precision").is_int() ? a.arg(0, "precision").as_int() : 0;
      const double m = std::pow(10.0, static_cast<double>(prec));
      return Value::floating(std::round(v.as_double() * m) / m);
    }
    return err(e, "unknown filter '" + f + "'");
  }

  Result<bool> eval_test(const Expr& e) {
    Value v;
    if (e.name == "defined" || e.name == "undefined") {
      // `x.y is defined` must not fail when x itself is undefined.
      auto r = eval(*e.a);
      v = r.ok() ? *r : Value();
    } else {
      STEMMA_ASSIGN_OR_RETURN(v, eval(*e.a));
    }
    STEMMA_ASSIGN_OR_RETURN(CallArgs a, eval_args(e));
    return run_test(e, e.name, v, a);
  }

  Result<bool> run_test(const Expr& e, const std::string& t, const Value& v, CallArgs& a) {
    if (t == "defined") return !v.is_undefined();
    if (t == "undefined") return v.is_undefined();
    if (t == "none") return v.is_none();
    if (t == "string") return v.is_string();
    if (t == "number") return v.is_number();
    if (t == "integer") return v.is_int();
    if (t == "float") return v.is_float();
    if (t == "boolean") return v.is_bool();
    if (t == "true") return v.is_bool() && v.as_bool();
    if (t == "false") return v.is_bool() && !v.as_bool();
    if (t == "mapping") return v.is_dict();
    if (t == "sequence") return v.is_list() || v.is_string() || v.is_dict();
    if (t == "iterable") return v.is_list() || v.is_string() || v.is_dict();
    if (t == "callable") return v.is_function();
    if (t == "odd" || t == "even") {
      if (!v.is_int()) return err(e, "test '" + t + "' needs an integer");
      return (*checked::mod(v.as_int(), 2) != 0) == (t == "odd");
    }
    if (t == "divisibleby") {
      const Value d = a.arg(0, "num");
      if (!v.is_int() || !d.is_int() || d.as_int() == 0)
        return err(e, "divisibleby needs integers");
      return *checked::mod(v.as_int(), d.as_int()) == 0;
    }
    if (t == "equalto" || t == "eq" || t == "==" || t == "sameas")
      return values_equal(v, a.arg(0, "other"));
    if (t == "ne" || t == "!=") return !values_equal(v, a.arg(0, "other"));
    if (t == "in") {
      STEMMA_ASSIGN_OR_RETURN(Value r, contains(e, a.arg(0, "seq"), v));
      return r.as_bool();
    }
    if (t == "lower" || t == "upper") {
      if (!v.is_string()) return false;
      for (char c : v.as_string()) {
        if (t == "lower" ? std::isupper(static_cast<unsigned char>(c))
                         : std::islower(static_cast<unsigned char>(c)))
          return false;
      }
      return true;
    }
    return err(e, "unknown test '" + t + "'");
  }

  Result<Value> contains(const Expr& e, const Value& container, const Value& item) {
    if (container.is_string()) {
      if (!item.is_string()) return err(e, "'in <string>' requires string as left operand");
      return Value::boolean(container.as_string().find(item.as_string()) != std::string::npos);
    }
    if (container.is_list()) {
      for (const auto& x : container.as_list()) {
        if (values_equal(x, item)) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (container.is_dict()) {
      return Value::boolean(item.is_string() && !container.get(item.as_string()).is_undefined());
    }
    if (container.is_undefined()) return err(e, "'in' on an undefined value");
    return err(e, std::string("argument of type '") + container.type_name() + "' is not iterable");
  }

  Result<Value> eval_binary(const Expr& e) {
    const std::string& op = e.name;
    STEMMA_ASSIGN_OR_RETURN(Value l, eval(*e.a));
    if (op == "and") {
      if (!l.truthy()) return l;
      return eval(*e.b);
    }
    if (op == "or") {
      if (l.truthy()) return l;
      return eval(*e.b);
    }
    STEMMA_ASSIGN_OR_RETURN(Value r, eval(*e.b));
    if (op == "~") return make_string(e, l.str() + r.str());
    if (op == "==") return Value::boolean(values_equal(l, r));
    if (op == "!=") return Value::boolean(!values_equal(l, r));
    if (op == "in" || op == "not in") {
      STEMMA_ASSIGN_OR_RETURN(Value c, contains(e, r, l));
      return Value::boolean(op == "in" ? c.as_bool() : !c.as_bool());
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      int cmp;
      if ((l.is_number() || l.is_bool()) && (r.is_number() || r.is_bool())) {
        const double a = l.as_double(), b = r.as_double();
        cmp = a < b ? -1 : a > b ? 1 : 0;
      } else if (l.is_string() && r.is_string()) {
        cmp = l.as_string().compare(r.as_string());
      } else {
        return err(e, std::string("'") + op + "' not supported between '" + l.type_name() +
                          "' and '" + r.type_name() + "'");
      }
      const bool res = op == "<" ? cmp < 0 : op == ">" ? cmp > 0 : op == "<=" ? cmp <= 0 : cmp >= 0;
      return Value::boolean(res);
    }
    if (op == "+") {
      if (l.is_string() && r.is_string()) return make_string(e, l.as_string() + r.as_string());
      if (l.is_list() && r.is_list()) {
        ValueList out = l.as_list();
        out.insert(out.end(), r.as_list().begin(), r.as_list().end());
        return make_container(e, Value::list(std::move(out)));
      }
    }
    if ((l.is_number() || l.is_bool()) && (r.is_number() || r.is_bool())) {
      const bool ints = !l.is_float() && !r.is_float();
      const int64_t a = l.as_int(), b = r.as_int();
      const std::string what = std::to_string(a) + " " + op + " " + std::to_string(b);
      auto int_result = [&](std::optional<int64_t> v) -> Result<Value> {
        if (!v) return overflow(e, what);
        return Value::integer(*v);
      };
      if (op == "+") {
        return ints ? int_result(checked::add(a, b))
                    : Value::floating(l.as_double() + r.as_double());
      }
      if (op == "-") {
        return ints ? int_result(checked::sub(a, b))
                    : Value::floating(l.as_double() - r.as_double());
      }
      if (op == "*") {
        return ints ? int_result(checked::mul(a, b))
                    : Value::floating(l.as_double() * r.as_double());
      }
      if (op == "/") {
        if (r.as_double() == 0) return err(e, "division by zero");
        return Value::floating(l.as_double() / r.as_double());
      }
      if (op == "//" || op == "%") {
        if (r.as_double() == 0) return err(e, "integer division or modulo by zero");
        if (ints) return int_result(op == "//" ? checked::floordiv(a, b) : checked::mod(a, b));
        const double q = std::floor(l.as_double() / r.as_double());
        return op == "//" ? Value::floating(q) : Value::floating(l.as_double() - q * r.as_double());
      }
      if (op == "**") {
        if (ints && b >= 0) return int_result(checked::pow(a, b));
        return Value::floating(std::pow(l.as_double(), r.as_double()));
      }
    }
    if (op == "*" && ((l.is_string() && r.is_int()) || (l.is_int() && r.is_string()))) {
      const std::string s = l.is_string() ? l.as_string() : r.as_string();
      const int64_t n = l.is_int() ? l.as_int() : r.as_int();
      if (n <= 0 || s.empty()) return Value::string("");
      const auto total = checked::mul(static_cast<int64_t>(s.size()), n);
      if (!total || static_cast<uint64_t>(*total) > limits_.max_bytes) {
        return too_big(e, total ? static_cast<size_t>(*total) : SIZE_MAX);
      }
      std::string out;
      out.reserve(static_cast<size_t>(*total));
      for (int64_t i = 0; i < n; ++i) out += s;
      return make_string(e, std::move(out));
    }
    return err(e, std::string("unsupported operand type(s) for ") + op + ": '" + l.type_name() +
                      "' and '" + r.type_name() + "'");
  }

  std::vector<Scope> scopes_;
  int macro_depth_ = 0;
  RenderLimits limits_;
  int64_t steps_ = 0;
  int64_t last_cancel_check_ = 0;
};

}  // namespace

Result<std::string> render(const Body& body, const ValueDict& globals, const RenderLimits& limits) {
  try {
    Interpreter interp(globals, limits);
    return interp.run(body);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("template: out of memory while rendering");
  } catch (const std::exception& e) {
    return Internal(std::string("template: ") + e.what());
  }
}

}  // namespace stemma::jinja
