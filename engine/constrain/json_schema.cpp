#include "engine/constrain/json_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/constrain/dfa.h"
#include "engine/constrain/json_nesting.h"
#include "engine/constrain/json_regex_parts.h"
#include "engine/constrain/regex_ast.h"

namespace stemma::constrain {

namespace {

using Json = nlohmann::ordered_json;
namespace jr = json_regex;

// Keywords that only annotate (validators ignore them), so leaving them out is exact.
const std::set<std::string> kAnnotations = {
    "title",      "description",   "default",   "examples",         "$comment",
    "deprecated", "readOnly",      "writeOnly", "$schema",          "$id",
    "$defs",      "definitions",   "nullable",  "contentMediaType", "contentEncoding",
    "$anchor",    "discriminator", "xml",       "externalDocs",     "example"};

// Validation keywords we cannot enforce; reported by name when present.
const std::set<std::string> kUnsupported = {"multipleOf",
                                            "uniqueItems",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "minProperties",
                                            "maxProperties",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "dependencies",
                                            "patternProperties",
                                            "propertyNames",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "if",
                                            "then",
                                            "else",
                                            "not",
                                            "$dynamicRef",
                                            "$recursiveRef",
                                            "$dynamicAnchor",
                                            "$recursiveAnchor"};

std::string group(const std::string& r) {
  return "(?:" + r + ")";
}

std::string alternation(const std::vector<std::string>& alts) {
  if (alts.empty()) return jr::kNothing;
  if (alts.size() == 1) return alts[0];
  std::string out = "(?:";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? "|" : "") + alts[i];
  return out + ")";
}

bool value_has_type(const Json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer() || v.is_number_unsigned()) return true;
    if (v.is_number_float()) {
      double d = v.get<double>();
      return std::isfinite(d) && d == std::floor(d);
    }
  }
  return false;
}

std::string dump_compact(const Json& v) {
  return v.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

// A regex in which rule calls (?&k) stand for any string: a superset of its language, so
// that disjoint supersets prove the branches of a recursive oneOf disjoint.
Result<Dfa> superset_dfa(const std::string& regex) {
  RegexParseOptions po;
  po.num_rules = 1 << 30;
  auto ast = parse_regex(regex, po);
  if (!ast.ok()) return ast.status();
  const size_t n = ast->nodes.size();
  for (size_t i = 0; i < n; ++i) {
    if (ast->nodes[i].kind != RegexKind::kRule) continue;
    RegexNode any;
    any.kind = RegexKind::kChars;
    any.chars.add(0, 0x10FFFF);
    ast->nodes.push_back(std::move(any));
    RegexNode& star = ast->nodes[i];
    star.kind = RegexKind::kRepeat;
    star.children = {static_cast<int32_t>(ast->nodes.size() - 1)};
    star.min = 0;
    star.max = -1;
  }
  return build_dfa(*ast);
}

class Translator {
 public:
  // With `recursive` (keys of the $refs that recur, found by a first pass): grammar mode, each
  // of them becomes a rule. Without: a $ref met again inside itself is recorded in
  // `recurring` (and stands for nothing) when options.recursion is kGrammar, or unrolled.
  Translator(const Json& root, const JsonSchemaOptions& options,
             const std::set<std::string>* recursive = nullptr)
      : root_(root), options_(options), recursive_(recursive) {
    if (options.whitespace > 0) ws_ = "[ \\t\\n]{0," + std::to_string(options.whitespace) + "}";
  }

  std::vector<std::string> unsupported;
  std::vector<std::string> notes;
  std::set<std::string> recurring;  // first pass: the $ref keys met inside themselves
  std::vector<SchemaRule> rules;

  // Grammar mode: translates the bodies of the rules made so far (which may make more).
  Status translate_rules() {
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Json body = pending_[i].body;
      const std::string key = pending_[i].key, path = pending_[i].path;
      stack_.assign(1, key);
      auto r = value(body, path);
      stack_.clear();
      if (!r.ok()) return r.status();
      rules[i].regex = *r;
    }
    return OkStatus();
  }

  Result<std::string> value(const Json& schema, const std::string& path) {
    if (++nesting_ > 200) {
      --nesting_;
      return InvalidArgument("schema nests deeper than 200 levels at " + path);
    }
    auto r = value_inner(schema, path);
    --nesting_;
    return r;
  }

 private:
  std::string unsupported_here(const std::string& what, const std::string& path) {
    unsupported.push_back(what + " at " + path);
    return jr::kNothing;
  }

  Result<const Json*> resolve(const std::string& ref, const std::string& path) {
    if (ref.empty() || ref[0] != '#') {
      return Unsupported("$ref to another document ('" + ref + "') at " + path);
    }
    try {
      if (ref == "#") return &root_;
      return &root_.at(Json::json_pointer(ref.substr(1)));
    } catch (const std::exception&) {
      return InvalidArgument("$ref '" + ref + "' at " + path + " points at nothing");
    }
  }

  static Json without(const Json& schema, const std::string& key) {
    Json out = schema;
    out.erase(key);
    return out;
  }

  static bool only_annotations(const Json& schema) {
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      if (!kAnnotations.count(it.key())) return false;
    }
    return true;
  }

  // Inlines a top-level $ref (repeatedly) so that allOf/anyOf branches can be merged.
  Result<Json> inline_ref(const Json& schema, const std::string& path) {
    Json cur = schema;
    for (int guard = 0; cur.is_object() && cur.contains("$ref"); ++guard) {
      if (guard > 32) return Unsupported("$ref chain longer than 32 at " + path);
      if (!cur["$ref"].is_string()) return InvalidArgument("$ref is not a string at " + path);
      auto target = resolve(cur["$ref"].get<std::string>(), path);
      if (!target.ok()) return target.status();
      Json rest = without(cur, "$ref");
      if (only_annotations(rest)) {
        cur = **target;
      } else {
        auto merged = merge(**target, rest, path);
        if (!merged.ok()) return merged.status();
        cur = *merged;
      }
    }
    return cur;
  }

  // allOf of two schemas as one schema, where the combination is simple to state.
  Result<Json> merge(const Json& a_in, const Json& b_in, const std::string& path) {
    if (a_in.is_boolean() || b_in.is_boolean()) {
      const Json& boolean = a_in.is_boolean() ? a_in : b_in;
      const Json& other = a_in.is_boolean() ? b_in : a_in;
      return boolean.get<bool>() ? other : Json(false);
    }
    Json out = a_in;
    for (auto it = b_in.begin(); it != b_in.end(); ++it) {
      const std::string& k = it.key();
      const Json& v = it.value();
      if (!out.contains(k) || kAnnotations.count(k)) {
        if (!out.contains(k)) out[k] = v;
        continue;
      }
      Json& cur = out[k];
      if (cur == v) continue;
      if (k == "properties" && cur.is_object() && v.is_object()) {
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (!cur.contains(p.key())) {
            cur[p.key()] = p.value();
          } else if (cur[p.key()] != p.value()) {
            cur[p.key()] = Json{{"allOf", Json::array({cur[p.key()], p.value()})}};
          }
        }
      } else if (k == "required" && cur.is_array() && v.is_array()) {
        for (const Json& name : v) {
          if (std::find(cur.begin(), cur.end(), name) == cur.end()) cur.push_back(name);
        }
      } else if (k == "type") {
        std::vector<std::string> ta = types_of(cur), tb = types_of(v), both;
        for (const std::string& t : ta) {
          for (const std::string& u : tb) {
            if (t == u) both.push_back(t);
            if ((t == "number" && u == "integer") || (t == "integer" && u == "number")) {
              both.push_back("integer");
            }
          }
        }
        cur = Json(both);
      } else if ((k == "minLength" || k == "minItems" || k == "minimum") && cur.is_number() &&
                 v.is_number()) {
        if (v > cur) cur = v;
      } else if ((k == "maxLength" || k == "maxItems" || k == "maximum") && cur.is_number() &&
                 v.is_number()) {
        if (v < cur) cur = v;
      } else if (k == "additionalProperties" && v.is_boolean() && !v.get<bool>()) {
        cur = v;
      } else {
        return Unsupported("allOf with conflicting '" + k + "' at " + path);
      }
    }
    return out;
  }

  static std::vector<std::string> types_of(const Json& t) {
    std::vector<std::string> out;
    if (t.is_string()) out.push_back(t.get<std::string>());
    if (t.is_array()) {
      for (const Json& x : t) {
        if (x.is_string()) out.push_back(x.get<std::string>());
      }
    }
    return out;
  }

  Result<std::string> value_inner(const Json& schema, const std::string& path) {
    if (schema.is_boolean()) {
      return schema.get<bool>() ? any_json_value_regex(options_.any_value_depth, ws_width())
                                : std::string(jr::kNothing);
    }
    if (!schema.is_object()) {
      return InvalidArgument("schema at " + path + " is neither an object nor a boolean");
    }
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      if (kUnsupported.count(it.key())) unsupported_here(it.key(), path);
    }
    if (schema.contains("$ref")) return ref_value(schema, path);
    if (schema.contains("allOf")) {
      const Json& all = schema["allOf"];
      if (!all.is_array() || all.empty()) {
        return InvalidArgument("allOf at " + path + " is not a non-empty array");
      }
      Json merged = without(schema, "allOf");
      for (size_t i = 0; i < all.size(); ++i) {
        auto branch = inline_ref(all[i], path + "/allOf/" + std::to_string(i));
        if (!branch.ok()) return keep_going(branch.status(), path);
        auto m = merge(merged, *branch, path);
        if (!m.ok()) return keep_going(m.status(), path);
        merged = *m;
      }
      return value(merged, path);
    }
    if (schema.contains("anyOf") && schema.contains("oneOf")) {
      return unsupported_here("anyOf together with oneOf", path);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (schema.contains(key)) return union_value(schema, key, path);
    }
    if (schema.contains("enum") || schema.contains("const")) return enum_value(schema, path);

    std::vector<std::string> types;
    if (schema.contains("type")) {
      types = types_of(schema["type"]);
      if (types.empty()) return InvalidArgument("type at " + path + " names no type");
    } else {
      types = inferred_types(schema);
    }
    std::vector<std::string> alts;
    for (const std::string& t : types) {
      auto r = typed_value(schema, t, path);
      if (!r.ok()) return r.status();
      alts.push_back(*r);
    }
    return alternation(alts);
  }

  // Turns an Unsupported status into a reported keyword (so every name gets listed).
  Result<std::string> keep_going(const Status& s, const std::string& path) {
    if (s.code() != StatusCode::kUnsupported) return s;
    (void)path;
    unsupported.push_back(s.message());
    return std::string(jr::kNothing);
  }

  static std::vector<std::string> inferred_types(const Json& s) {
    for (const char* k : {"properties", "required", "additionalProperties"}) {
      if (s.contains(k)) return {"object"};
    }
    for (const char* k : {"items", "prefixItems", "minItems", "maxItems"}) {
      if (s.contains(k)) return {"array"};
    }
    for (const char* k : {"minLength", "maxLength", "pattern", "format"}) {
      if (s.contains(k)) return {"string"};
    }
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (s.contains(k)) return {"number"};
    }
    return {"any"};
  }

  Result<std::string> ref_value(const Json& schema, const std::string& path) {
    if (!schema["$ref"].is_string()) return InvalidArgument("$ref is not a string at " + path);
    std::string ref = schema["$ref"].get<std::string>();
    auto target = resolve(ref, path);
    if (!target.ok()) return keep_going(target.status(), path);
    if (options_.recursion == JsonRecursion::kGrammar) return ref_call(schema, ref, **target, path);
    int& depth = ref_depth_[ref];
    if (depth >= options_.max_recursion_depth) {
      std::string note = "recursion through " + ref + " closed at depth " +
                         std::to_string(options_.max_recursion_depth);
      if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
      return std::string(jr::kNothing);
    }
    ++depth;
    Json rest = without(schema, "$ref");
    Result<std::string> out = std::string();
    if (only_annotations(rest)) {
      out = value(**target, ref);
    } else {
      auto merged = merge(**target, rest, path);
      out = merged.ok() ? value(*merged, path) : keep_going(merged.status(), path);
    }
    --depth;
    return out;
  }

  // Grammar mode: a $ref that recurs is a call of its rule; any other is inlined (as in a
  // plain regex). The key is the $ref plus its sibling keywords, which change its meaning.
  Result<std::string> ref_call(const Json& schema, const std::string& ref, const Json& target,
                               const std::string& path) {
    Json rest = without(schema, "$ref");
    const bool plain = only_annotations(rest);
    std::string key = ref;
    if (!plain) {
      Json validating = Json::object();
      for (auto it = rest.begin(); it != rest.end(); ++it) {
        if (!kAnnotations.count(it.key())) validating[it.key()] = it.value();
      }
      key += " " + dump_compact(validating);
    }
    auto body = [&]() -> Result<Json> {
      if (plain) return target;
      return merge(target, rest, path);
    };
    auto id = rule_ids_.find(key);
    if (id != rule_ids_.end()) return call(id->second);
    const bool on_stack = std::find(stack_.begin(), stack_.end(), key) != stack_.end();
    if (recursive_ == nullptr && on_stack) {
      recurring.insert(key);
      return std::string(jr::kNothing);
    }
    if (recursive_ != nullptr && (on_stack || recursive_->count(key))) {
      auto b = body();
      if (!b.ok()) return keep_going(b.status(), path);
      const int32_t k = static_cast<int32_t>(rules.size());
      rule_ids_[key] = k;
      rules.push_back({key, ""});
      pending_.push_back({key, *b, plain ? ref : path});
      notes.push_back("recursion through " + key + ": grammar rule " + std::to_string(k));
      return call(k);
    }
    auto b = body();
    if (!b.ok()) return keep_going(b.status(), path);
    stack_.push_back(key);
    auto out = value(*b, plain ? ref : path);
    stack_.pop_back();
    return out;
  }

  static std::string call(int32_t rule) { return "(?&" + std::to_string(rule) + ")"; }

  Result<std::string> union_value(const Json& schema, const char* key, const std::string& path) {
    const Json& branches = schema[key];
    if (!branches.is_array() || branches.empty()) {
      return InvalidArgument(std::string(key) + " at " + path + " is not a non-empty array");
    }
    Json base = without(schema, key);
    std::vector<std::string> alts;
    for (size_t i = 0; i < branches.size(); ++i) {
      std::string bpath = path + "/" + key + "/" + std::to_string(i);
      Result<std::string> r = std::string();
      if (only_annotations(base)) {
        r = value(branches[i], bpath);
      } else {
        auto inl = inline_ref(branches[i], bpath);
        if (!inl.ok()) return keep_going(inl.status(), bpath);
        auto merged = merge(base, *inl, bpath);
        r = merged.ok() ? value(*merged, bpath) : keep_going(merged.status(), bpath);
      }
      if (!r.ok()) return r.status();
      alts.push_back(*r);
    }
    if (std::string(key) == "oneOf" && alts.size() > 1 && unsupported.empty() &&
        recurring.empty()) {
      // oneOf fails when two branches match; an alternation is exact only for disjoint ones.
      // Branches that call grammar rules are checked through a superset of their language.
      std::vector<Dfa> dfas;
      for (const std::string& a : alts) {
        auto d = recursive_ ? superset_dfa(a) : compile_regex(a);
        if (!d.ok()) return d.status();
        dfas.push_back(std::move(*d));
      }
      for (size_t i = 0; i < dfas.size(); ++i) {
        for (size_t j = i + 1; j < dfas.size(); ++j) {
          if (!dfa_languages_disjoint(dfas[i], dfas[j])) {
            return unsupported_here("oneOf with overlapping branches " + std::to_string(i) +
                                        " and " + std::to_string(j),
                                    path);
          }
        }
      }
    }
    return alternation(alts);
  }

  Result<std::string> enum_value(const Json& schema, const std::string& path) {
    std::vector<Json> values;
    if (schema.contains("const")) values.push_back(schema["const"]);
    if (schema.contains("enum")) {
      if (!schema["enum"].is_array())
        return InvalidArgument("enum at " + path + " is not an array");
      if (schema.contains("const")) {
        // Both: only the const, and only if the enum lists it.
        bool listed = false;
        for (const Json& v : schema["enum"]) listed = listed || v == schema["const"];
        if (!listed) values.clear();
      } else {
        for (const Json& v : schema["enum"]) values.push_back(v);
      }
    }
    std::vector<std::string> types;
    if (schema.contains("type")) types = types_of(schema["type"]);
    std::vector<std::string> alts;
    for (const Json& v : values) {
      bool typed = types.empty();
      for (const std::string& t : types) typed = typed || value_has_type(v, t);
      if (!typed) continue;
      std::string text = dump_compact(v);
      if (v.is_string()) {
        // Enforce sibling string keywords on literal values too.
        size_t n = 0;
        for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
        if (schema.contains("minLength") && schema["minLength"].is_number() &&
            n < schema["minLength"].get<double>()) {
          continue;
        }
        if (schema.contains("maxLength") && schema["maxLength"].is_number() &&
            n > schema["maxLength"].get<double>()) {
          continue;
        }
        if (schema.contains("pattern") || schema.contains("format")) {
          unsupported_here("enum/const with pattern or format", path);
        }
      }
      alts.push_back(regex_escape(text));
    }
    return alternation(alts);
  }

  int ws_width() const { return options_.whitespace; }

  Result<std::string> typed_value(const Json& s, const std::string& type, const std::string& path) {
    if (type == "null") return std::string(jr::kNull);
    if (type == "boolean") return std::string(jr::kBoolean);
    if (type == "string") return string_value(s, path);
    if (type == "integer" || type == "number") return number_value(s, type, path);
    if (type == "object") return object_value(s, path);
    if (type == "array") return array_value(s, path);
    if (type == "any") return any_json_value_regex(options_.any_value_depth, ws_width());
    return InvalidArgument("unknown type '" + type + "' at " + path);
  }

  Result<std::optional<int64_t>> count_keyword(const Json& s, const char* key,
                                               const std::string& path) {
    if (!s.contains(key)) return std::optional<int64_t>();
    const Json& v = s[key];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>())) {
      return InvalidArgument(std::string(key) + " at " + path + " is not a non-negative integer");
    }
    if (v.get<double>() > 100000) {
      return Unsupported(std::string(key) + " over 100000 at " + path);
    }
    return std::optional<int64_t>(v.get<int64_t>());
  }

  Result<std::string> string_value(const Json& s, const std::string& path) {
    auto min_len = count_keyword(s, "minLength", path);
    if (!min_len.ok()) return keep_going(min_len.status(), path);
    auto max_len = count_keyword(s, "maxLength", path);
    if (!max_len.ok()) return keep_going(max_len.status(), path);
    bool has_len = min_len->has_value() || max_len->has_value();
    if (s.contains("format")) {
      if (!s["format"].is_string()) return InvalidArgument("format at " + path + " not a string");
      std::string format = s["format"].get<std::string>();
      auto body = jr::format_body(format);
      if (!body.ok()) return unsupported_here("format '" + format + "'", path);
      if (has_len || s.contains("pattern")) {
        return unsupported_here("format '" + format + "' with minLength/maxLength/pattern", path);
      }
      return "\"" + *body + "\"";
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return InvalidArgument("pattern at " + path + " not a string");
      if (has_len) return unsupported_here("pattern with minLength/maxLength", path);
      CodepointSet raw;  // characters a JSON string may hold unescaped
      raw.add(0x20, 0x10FFFF);
      CodepointSet banned;
      banned.add('"', '"');
      banned.add('\\', '\\');
      raw = raw.intersect(banned.complement());
      RegexParseOptions po;
      po.restrict_chars = &raw;
      po.search_semantics = true;
      auto ast = parse_regex(s["pattern"].get<std::string>(), po);
      if (!ast.ok()) {
        return unsupported_here(
            "pattern '" + s["pattern"].get<std::string>() + "' (" + ast.status().message() + ")",
            path);
      }
      return "\"" + print_regex(*ast) + "\"";
    }
    int64_t lo = min_len->value_or(0);
    int64_t hi = max_len->has_value() ? **max_len : -1;
    if (hi >= 0 && lo > hi) return std::string(jr::kNothing);
    return "\"" + jr::repeat(jr::kStringChar, lo, hi) + "\"";
  }

  Result<std::string> number_value(const Json& s, const std::string& type,
                                   const std::string& path) {
    bool integer = type == "integer";
    std::optional<double> lo, hi;
    bool lo_excl = false, hi_excl = false;
    auto num = [&](const char* k) -> Result<std::optional<double>> {
      if (!s.contains(k) || s[k].is_boolean()) return std::optional<double>();
      if (!s[k].is_number())
        return InvalidArgument(std::string(k) + " at " + path + " not a number");
      return std::optional<double>(s[k].get<double>());
    };
    auto mn = num("minimum"), mx = num("maximum"), emn = num("exclusiveMinimum"),
         emx = num("exclusiveMaximum");
    for (auto* r : {&mn, &mx, &emn, &emx}) {
      if (!r->ok()) return r->status();
    }
    lo = *mn, hi = *mx;
    // Draft 4 spells exclusivity as a boolean beside minimum/maximum.
    if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"].is_boolean()) {
      lo_excl = s["exclusiveMinimum"].get<bool>();
    }
    if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"].is_boolean()) {
      hi_excl = s["exclusiveMaximum"].get<bool>();
    }
    if (emn->has_value() && (!lo || **emn >= *lo)) lo = *emn, lo_excl = true;
    if (emx->has_value() && (!hi || **emx <= *hi)) hi = *emx, hi_excl = true;
    if (!lo && !hi) return std::string(integer ? jr::kInteger : jr::kNumber);
    std::optional<int64_t> ilo, ihi;
    if (integer) {
      if (lo) ilo = static_cast<int64_t>(lo_excl ? std::floor(*lo) + 1 : std::ceil(*lo));
      if (hi) ihi = static_cast<int64_t>(hi_excl ? std::ceil(*hi) - 1 : std::floor(*hi));
      if (ilo && ihi && *ilo > *ihi) return std::string(jr::kNothing);
      auto r = jr::integer_range(ilo, ihi);
      if (!r.ok()) return keep_going(r.status(), path);
      return r;
    }
    for (auto [bound, excl, name] :
         {std::tuple{lo, lo_excl, "minimum"}, std::tuple{hi, hi_excl, "maximum"}}) {
      if (!bound) continue;
      if (excl) return unsupported_here(std::string("exclusive ") + name + " on number", path);
      if (*bound != std::floor(*bound) || std::fabs(*bound) > 1e15) {
        return unsupported_here(std::string(name) + " that is not an integer, on number", path);
      }
    }
    if (lo) ilo = static_cast<int64_t>(*lo);
    if (hi) ihi = static_cast<int64_t>(*hi);
    if (ilo && ihi && *ilo > *ihi) return std::string(jr::kNothing);
    auto r = jr::number_range(ilo, ihi);
    if (!r.ok()) return keep_going(r.status(), path);
    return r;
  }

  std::string key_regex(const std::string& name) {
    return regex_escape(dump_compact(Json(name))) + ws_ + ":" + ws_;
  }

  Result<std::string> object_value(const Json& s, const std::string& path) {
    Json props = s.contains("properties") ? s["properties"] : Json::object();
    if (!props.is_object()) return InvalidArgument("properties at " + path + " is not an object");
    std::vector<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array())
        return InvalidArgument("required at " + path + " not an array");
      for (const Json& r : s["required"]) {
        if (!r.is_string()) return InvalidArgument("required at " + path + " lists a non-string");
        required.push_back(r.get<std::string>());
      }
    }
    const Json additional =
        s.contains("additionalProperties") ? s["additionalProperties"] : Json(true);
    bool closed = additional.is_boolean() && !additional.get<bool>();
    for (const std::string& r : required) {
      if (!props.contains(r)) {
        if (closed) return std::string(jr::kNothing);  // required but forbidden: no instance
        props[r] = true;
      }
    }
    const std::string open = "\\{" + ws_, close = ws_ + "\\}", comma = ws_ + "," + ws_;
    if (props.empty()) {
      if (closed) return open + close;
      Json value_schema = additional.is_boolean() ? Json(true) : additional;
      std::string v;
      if (additional.is_boolean()) {
        v = any_json_value_regex(std::max(0, options_.any_value_depth - 1), ws_width());
      } else {
        auto r = value(value_schema, path + "/additionalProperties");
        if (!r.ok()) return r.status();
        v = *r;
      }
      std::string entry = std::string(jr::kString) + ws_ + ":" + ws_ + group(v);
      return open + "(?:" + entry + "(?:" + comma + entry + ")*)?" + close;
    }
    if (!additional.is_boolean()) {
      notes.push_back("additionalProperties schema beside properties at " + path +
                      ": only the listed properties are generated");
    }
    struct Prop {
      std::string regex;
      bool required;
    };
    std::vector<Prop> list;
    for (auto it = props.begin(); it != props.end(); ++it) {
      auto v = value(it.value(), path + "/properties/" + it.key());
      if (!v.ok()) return v.status();
      bool req = std::find(required.begin(), required.end(), it.key()) != required.end();
      if (*v == jr::kNothing && !req) continue;  // a property that cannot be written: skip it
      list.push_back({key_regex(it.key()) + group(*v), req});
    }
    // Properties in order; commas only between present ones. Before the first required
    // property each optional one carries its comma after it; after it, before it.
    size_t first_required = list.size();
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].required) {
        first_required = i;
        break;
      }
    }
    std::string body;
    if (first_required < list.size()) {
      for (size_t i = 0; i < first_required; ++i) body += "(?:" + list[i].regex + comma + ")?";
      body += list[first_required].regex;
      for (size_t i = first_required + 1; i < list.size(); ++i) {
        body += list[i].required ? comma + list[i].regex : "(?:" + comma + list[i].regex + ")?";
      }
    } else {
      // All optional: choose which one comes first, the rest each optional after it.
      std::vector<std::string> alts;
      for (size_t i = 0; i < list.size(); ++i) {
        std::string a = list[i].regex;
        for (size_t j = i + 1; j < list.size(); ++j) a += "(?:" + comma + list[j].regex + ")?";
        alts.push_back(a);
      }
      body = list.empty() ? "" : "(?:" + alternation(alts) + ")?";
    }
    return open + body + close;
  }

  Result<std::string> array_value(const Json& s, const std::string& path) {
    auto min_items = count_keyword(s, "minItems", path);
    if (!min_items.ok()) return keep_going(min_items.status(), path);
    auto max_items = count_keyword(s, "maxItems", path);
    if (!max_items.ok()) return keep_going(max_items.status(), path);
    int64_t lo = min_items->value_or(0);
    int64_t hi = max_items->has_value() ? **max_items : -1;
    if (hi >= 0 && lo > hi) return std::string(jr::kNothing);

    std::vector<std::string> prefix;
    Json rest_schema = true;
    const char* rest_name = "items";
    if (s.contains("prefixItems")) {
      if (!s["prefixItems"].is_array()) return InvalidArgument("prefixItems at " + path);
      for (size_t i = 0; i < s["prefixItems"].size(); ++i) {
        auto r = value(s["prefixItems"][i], path + "/prefixItems/" + std::to_string(i));
        if (!r.ok()) return r.status();
        prefix.push_back(group(*r));
      }
      if (s.contains("items")) rest_schema = s["items"];
    } else if (s.contains("items") && s["items"].is_array()) {  // draft 4-2019 tuples
      for (size_t i = 0; i < s["items"].size(); ++i) {
        auto r = value(s["items"][i], path + "/items/" + std::to_string(i));
        if (!r.ok()) return r.status();
        prefix.push_back(group(*r));
      }
      rest_name = "additionalItems";
      if (s.contains("additionalItems")) rest_schema = s["additionalItems"];
    } else if (s.contains("items")) {
      rest_schema = s["items"];
    }
    std::optional<std::string> rest;
    if (!(rest_schema.is_boolean() && !rest_schema.get<bool>())) {
      auto r = value(rest_schema, path + "/" + rest_name);
      if (!r.ok()) return r.status();
      if (*r != jr::kNothing) rest = group(*r);
    }
    int64_t k = static_cast<int64_t>(prefix.size());
    if (hi >= 0 && hi < k) {
      prefix.resize(static_cast<size_t>(hi));
      k = hi;
    }
    if (!rest && lo > k) return std::string(jr::kNothing);
    const std::string open = "\\[" + ws_, close = ws_ + "\\]", comma = ws_ + "," + ws_;
    if (k == 0) {
      if (!rest) return open + close;
      if (hi == 0) return open + close;
      std::string tail =
          jr::repeat(comma + *rest, std::max<int64_t>(0, lo - 1), hi < 0 ? -1 : hi - 1);
      std::string items = *rest + tail;
      return open + (lo == 0 ? "(?:" + items + ")?" : items) + close;
    }
    // tail after all k prefix items
    std::string tail;
    if (rest) tail = jr::repeat(comma + *rest, std::max<int64_t>(0, lo - k), hi < 0 ? -1 : hi - k);
    std::string seq = tail;
    for (int64_t i = k - 1; i >= 0; --i) {
      std::string item = (i == 0 ? "" : comma) + prefix[static_cast<size_t>(i)] + seq;
      seq = (i >= lo) ? "(?:" + item + ")?" : item;
    }
    return open + seq + close;
  }

  struct PendingRule {
    std::string key;
    Json body;
    std::string path;
  };

  const Json& root_;
  const JsonSchemaOptions& options_;
  const std::set<std::string>* recursive_;
  std::string ws_;
  std::map<std::string, int> ref_depth_;  // kUnroll
  std::vector<std::string> stack_;        // kGrammar: $ref keys being inlined
  std::map<std::string, int32_t> rule_ids_;
  std::vector<PendingRule> pending_;
  int nesting_ = 0;
};

}  // namespace

Status SchemaRegex::status() const {
  if (unsupported.empty()) return OkStatus();
  std::string msg = "JSON Schema keywords not supported: ";
  for (size_t i = 0; i < unsupported.size(); ++i) msg += (i ? "; " : "") + unsupported[i];
  return Unsupported(msg);
}

std::string any_json_value_regex(int depth, int whitespace) {
  std::string ws = whitespace > 0 ? "[ \\t\\n]{0," + std::to_string(whitespace) + "}" : "";
  std::string scalars = std::string("(?:") + jr::kString + "|" + jr::kNumber + "|" + jr::kBoolean +
                        "|" + jr::kNull + ")";
  std::string v = scalars;
  for (int d = 1; d <= depth; ++d) {
    std::string inner = group(v);
    std::string member = std::string(jr::kString) + ws + ":" + ws + inner;
    std::string obj =
        "\\{" + ws + "(?:" + member + "(?:" + ws + "," + ws + member + ")*)?" + ws + "\\}";
    std::string arr =
        "\\[" + ws + "(?:" + inner + "(?:" + ws + "," + ws + inner + ")*)?" + ws + "\\]";
    v = "(?:" + scalars + "|" + obj + "|" + arr + ")";
  }
  return v;
}

std::string choices_regex(const std::vector<std::string>& choices) {
  std::vector<std::string> alts;
  for (const std::string& c : choices) alts.push_back(regex_escape(c));
  return alternation(alts);
}

Result<SchemaRegex> json_schema_to_regex(std::string_view schema_json,
                                         const JsonSchemaOptions& options) {
  STEMMA_RETURN_IF_ERROR(check_json_nesting(schema_json, kMaxJsonNesting, "JSON Schema"));
  Json root;
  try {
    root = Json::parse(schema_json);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("schema is not valid JSON: ") + e.what());
  }
  if (options.max_stack_depth < 2) {
    return InvalidArgument("JSON Schema: max_stack_depth must be at least 2");
  }
  Translator first(root, options);
  auto regex = first.value(root, "#");
  if (!regex.ok()) return regex.status();
  SchemaRegex out;
  if (first.recurring.empty()) {  // no $ref cycle (or unrolled): one regex
    out.unsupported = std::move(first.unsupported);
    out.notes = std::move(first.notes);
    if (out.unsupported.empty()) out.regex = std::move(*regex);
    return out;
  }
  // $ref cycles: again, with every recurring $ref as a grammar rule.
  Translator second(root, options, &first.recurring);
  regex = second.value(root, "#");
  if (!regex.ok()) return regex.status();
  STEMMA_RETURN_IF_ERROR(second.translate_rules());
  out.unsupported = std::move(second.unsupported);
  out.notes = std::move(second.notes);
  if (out.unsupported.empty()) {
    out.regex = std::move(*regex);
    out.rules = std::move(second.rules);
  }
  return out;
}

std::string JsonSchemaOptions::cache_key() const {
  return std::to_string(whitespace) + " " + std::to_string(static_cast<int>(recursion)) + " " +
         std::to_string(max_recursion_depth) + " " + std::to_string(max_stack_depth) + " " +
         std::to_string(any_value_depth);
}

}  // namespace stemma::constrain
