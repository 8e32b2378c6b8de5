// src/snapshot/json_logic_compile.cc

#include "snapshot/json_logic_compile.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eval/evaluate.h"
#include "eval/json_logic.h"
#include "util/js_number.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

using Kind = JlValue::Kind;

struct OpEntry {
  std::string_view name;
  JlOp op;
};
constexpr OpEntry kOps[] = {
    {"var", JlOp::kVar},
    {"missing", JlOp::kMissing},
    {"missing_some", JlOp::kMissingSome},
    {"if", JlOp::kIf},
    {"?:", JlOp::kIf},
    {"and", JlOp::kAnd},
    {"or", JlOp::kOr},
    {"!", JlOp::kNot},
    {"not", JlOp::kNot},
    {"!!", JlOp::kNotNot},
    {"??", JlOp::kCoalesce},
    {"==", JlOp::kEq},
    {"!=", JlOp::kNe},
    {"===", JlOp::kStrictEq},
    {"!==", JlOp::kStrictNe},
    {"<", JlOp::kLt},
    {"<=", JlOp::kLte},
    {">", JlOp::kGt},
    {">=", JlOp::kGte},
    {"in", JlOp::kIn},
    {"cat", JlOp::kCat},
    {"substr", JlOp::kSubstr},
    {"+", JlOp::kAdd},
    {"-", JlOp::kSub},
    {"*", JlOp::kMul},
    {"/", JlOp::kDiv},
    {"%", JlOp::kMod},
    {"max", JlOp::kMax},
    {"min", JlOp::kMin},
    {"merge", JlOp::kMerge},
    {"starts_with", JlOp::kStartsWith},
    {"ends_with", JlOp::kEndsWith},
    {"sem_ver", JlOp::kSemVer},
    {"fractional", JlOp::kFractional},
};

// json-logic-engine operators hotfix does not compile (they iterate over
// arrays, which a hotfix Context never holds, or control errors).
constexpr std::string_view kUnsupported[] = {
    "map",   "filter",   "reduce", "all", "some", "none",
    "every", "eachKey",  "exists", "get", "keys", "length",
    "pipe",  "preserve", "throw",  "try", "val"};

bool Foldable(JlOp op) {
  switch (op) {
    case JlOp::kConst:
    case JlOp::kArrayLit:
    case JlOp::kVar:
    case JlOp::kContextKey:
    case JlOp::kFlagKey:
    case JlOp::kTimestamp:
    case JlOp::kMissing:
    case JlOp::kMissingSome:
    case JlOp::kStartsWith:
    case JlOp::kEndsWith:
    case JlOp::kSemVer:
    case JlOp::kFractional:
      return false;
    default:
      return true;
  }
}

class JlCompiler {
 public:
  JlCompiler(const CompiledFlag& flag, StringPool* pool, JlProgram* out)
      : flag_(flag), pool_(pool), p_(out) {}

  absl::StatusOr<std::uint32_t> Compile(const Json& v, const Path& path);
  // Compiles `v` in interpreted mode (see JlNode::interpreted).
  absl::StatusOr<std::uint32_t> CompileInterpreted(const Json& v,
                                                   const Path& path) {
    const bool saved = interpreted_;
    interpreted_ = true;
    auto r = Compile(v, path);
    interpreted_ = saved;
    return r;
  }
  void ResolveVariants();

 private:
  std::uint32_t Add(JlNode node) {
    node.interpreted = interpreted_;
    p_->nodes.push_back(node);
    return static_cast<std::uint32_t>(p_->nodes.size() - 1);
  }
  std::uint32_t AddConst(const JlValue& v) {
    JlNode n;
    n.op = JlOp::kConst;
    n.value = v;
    return Add(n);
  }
  absl::StatusOr<JlValue> Constant(const Json& v, const Path& path);
  absl::StatusOr<std::uint32_t> Operator(std::string_view name,
                                         const Json& args, const Path& path);
  absl::StatusOr<std::uint32_t> Var(const Json& args, const Path& path);
  absl::StatusOr<std::uint32_t> MissingOp(JlOp op, const Json& args,
                                          const Path& path);
  absl::Status CheckArithmetic(JlOp op, const JlNode& node, const Path& path);
  absl::StatusOr<std::uint32_t> Fold(std::uint32_t index, const Path& path);
  JlValue Persist(const JlValue& v, JlEvaluator& evaluator);
  void Resolve(JlValue* v);
  bool IsConst(std::uint32_t index) const {
    return p_->nodes[index].op == JlOp::kConst;
  }

  const CompiledFlag& flag_;
  StringPool* pool_;
  JlProgram* p_;
  bool interpreted_ = false;
};

// A JSON value with no operator in it as a constant (arrays of constants
// stored in the program).
absl::StatusOr<JlValue> JlCompiler::Constant(const Json& v, const Path& path) {
  if (v.IsNull()) return JlValue::Null();
  if (v.IsBool()) return JlValue::Bool(v.GetBool());
  if (v.IsNumber()) return JlValue::Number(v.GetDouble());
  if (v.IsString()) return JlValue::String(pool_->Intern(View(v)));
  if (v.IsObject()) {
    JlValue o;
    o.kind = Kind::kObject;
    o.size = 0;
    return o;
  }
  auto items = std::make_unique<std::vector<JlValue>>();
  items->reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    HOTFIX_ASSIGN_OR_RETURN(JlValue e,
                            Constant(v[i], Path(path, std::size_t{i})));
    items->push_back(e);
  }
  JlValue a;
  a.kind = Kind::kArray;
  a.items = items->data();
  a.size = static_cast<std::uint32_t>(items->size());
  p_->arrays.push_back(std::move(items));
  return a;
}

absl::StatusOr<std::uint32_t> JlCompiler::Compile(const Json& v,
                                                  const Path& path) {
  if (v.IsObject()) {
    if (v.MemberCount() == 0) {
      HOTFIX_ASSIGN_OR_RETURN(JlValue o, Constant(v, path));
      return AddConst(o);
    }
    if (v.MemberCount() > 1) {
      return Error(path,
                   absl::StrCat("a JSON Logic rule is an object with exactly "
                                "one operator; this one has ",
                                v.MemberCount(), " members"));
    }
    const auto m = v.MemberBegin();
    return Operator(View(m->name), m->value, Path(path, View(m->name)));
  }
  if (v.IsArray()) {
    std::vector<std::uint32_t> children;
    bool all_const = true;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      HOTFIX_ASSIGN_OR_RETURN(std::uint32_t c,
                              Compile(v[i], Path(path, std::size_t{i})));
      children.push_back(c);
      all_const = all_const && IsConst(c);
    }
    if (all_const) {
      auto items = std::make_unique<std::vector<JlValue>>();
      for (std::uint32_t c : children) items->push_back(p_->nodes[c].value);
      JlValue a;
      a.kind = Kind::kArray;
      a.items = items->data();
      a.size = static_cast<std::uint32_t>(items->size());
      p_->arrays.push_back(std::move(items));
      return AddConst(a);
    }
    JlNode n;
    n.op = JlOp::kArrayLit;
    n.first_child = static_cast<std::uint32_t>(p_->children.size());
    n.child_count = static_cast<std::uint32_t>(children.size());
    p_->children.insert(p_->children.end(), children.begin(), children.end());
    return Add(n);
  }
  HOTFIX_ASSIGN_OR_RETURN(JlValue c, Constant(v, path));
  return AddConst(c);
}

absl::StatusOr<std::uint32_t> JlCompiler::Var(const Json& args,
                                              const Path& path) {
  const Json* key = &args;
  const Json* fallback = nullptr;
  if (args.IsArray()) {
    if (args.Size() > 2) {
      return Error(path, "expected [name] or [name, default]");
    }
    key = args.Size() > 0 ? &args[0] : nullptr;
    if (args.Size() == 2) fallback = &args[1];
  }
  std::string name;
  if (key != nullptr && key->IsString()) {
    name.assign(View(*key));
  } else if (key != nullptr && key->IsNumber()) {
    char digits[kJsNumberChars];
    name.assign(digits, JsNumberToString(key->GetDouble(), digits));
  } else if (key == nullptr || key->IsNull()) {
    name.clear();
  } else {
    return Error(path,
                 "var takes a name (a string or number); computed names are "
                 "not supported");
  }
  if (name.empty()) {
    return Error(path,
                 "var of the whole context is not supported (name an "
                 "attribute)");
  }
  if (name.find("../") != std::string::npos) {
    return Error(path, "var with \"../\" (iterator scopes) is not supported");
  }
  // "a\.b" names the key "a.b"; hotfix attributes are flat, with nested
  // objects written as dotted names, so both read attribute "a.b".
  std::string unescaped;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 1 < name.size() && name[i + 1] == '.') continue;
    unescaped.push_back(name[i]);
  }
  JlNode n;
  if (unescaped == "targetingKey") {
    n.op = JlOp::kContextKey;
    n.name = pool_->Intern("targetingKey");
  } else if (unescaped == "$flagd.flagKey") {
    n.op = JlOp::kFlagKey;
  } else if (unescaped == "$flagd.timestamp") {
    n.op = JlOp::kTimestamp;
  } else if (unescaped == "$flagd" || unescaped.rfind("$flagd.", 0) == 0) {
    if (unescaped == "$flagd") {
      return Error(path, "var of the $flagd object is not supported");
    }
    // flagd replaces any caller-supplied $flagd: other members are null.
    if (fallback != nullptr)
      return Compile(*fallback, Path(path, std::size_t{1}));
    return AddConst(JlValue::Null());
  } else {
    n.op = JlOp::kVar;
    n.name = pool_->Intern(unescaped);
  }
  if (fallback != nullptr &&
      (n.op == JlOp::kVar || n.op == JlOp::kContextKey)) {
    HOTFIX_ASSIGN_OR_RETURN(std::uint32_t d,
                            Compile(*fallback, Path(path, std::size_t{1})));
    n.first_child = static_cast<std::uint32_t>(p_->children.size());
    n.child_count = 1;
    p_->children.push_back(d);
  }
  return Add(n);
}

absl::StatusOr<std::uint32_t> JlCompiler::MissingOp(JlOp op, const Json& args,
                                                    const Path& path) {
  JlNode n;
  n.op = op;
  const Json* list = &args;
  Path list_path = path;
  if (op == JlOp::kMissingSome) {
    if (!args.IsArray() || args.Size() != 2 || !args[0].IsNumber() ||
        !args[1].IsArray()) {
      return Error(path, "expected [count, [names...]]");
    }
    const double need = args[0].GetDouble();
    n.need = need <= 0 ? 0 : static_cast<std::uint32_t>(std::ceil(need));
    list = &args[1];
  }
  n.first_name = static_cast<std::uint32_t>(p_->names.size());
  auto add = [&](const Json& name, const Path& at) -> absl::Status {
    if (name.IsString()) {
      p_->names.push_back(pool_->Intern(View(name)));
      p_->name_values.push_back(JlValue::String(p_->names.back()));
    } else if (name.IsNumber()) {
      char digits[kJsNumberChars];
      p_->names.push_back(pool_->Intern(std::string_view(
          digits, JsNumberToString(name.GetDouble(), digits))));
      p_->name_values.push_back(JlValue::Number(name.GetDouble()));
    } else {
      return Error(at,
                   "expected an attribute name (computed names are not "
                   "supported)");
    }
    return absl::OkStatus();
  };
  if (list->IsArray()) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      HOTFIX_RETURN_IF_ERROR(add((*list)[i], Path(list_path, std::size_t{i})));
    }
  } else {
    HOTFIX_RETURN_IF_ERROR(add(*list, list_path));
  }
  n.name_count = static_cast<std::uint32_t>(p_->names.size()) - n.first_name;
  return Add(n);
}

// json-logic-engine's compiled arithmetic fails at build time on a constant
// operand that is not a number ("abc", an array) and on a constant zero
// divisor; flagd reports PARSE_ERROR, hotfix a compile error.
absl::Status JlCompiler::CheckArithmetic(JlOp op, const JlNode& node,
                                         const Path& path) {
  if ((op == JlOp::kSub || op == JlOp::kDiv) && node.child_count == 0) {
    return Error(path, "expected at least one operand");
  }
  if (op == JlOp::kMod && node.child_count < 2) {
    return Error(path, "expected at least two operands");
  }
  for (std::uint32_t i = 0; i < node.child_count; ++i) {
    const JlNode& c = p_->nodes[p_->children[node.first_child + i]];
    if (c.op != JlOp::kConst) continue;
    const JlValue& v = c.value;
    const Path at(path, std::size_t{i});
    if (v.kind == Kind::kArray || v.kind == Kind::kObject) {
      return Error(at, "not a number: this operation always fails");
    }
    if (v.kind == Kind::kString && std::isnan(JsStringToNumber(v.string))) {
      return Error(at, absl::StrCat("\"", ToAbsl(v.string),
                                    "\" is not a number: this operation "
                                    "always fails"));
    }
    const bool divisor = op == JlOp::kDiv && (i > 0 || node.child_count == 1);
    if (divisor &&
        ((v.kind == Kind::kNumber && v.number == 0) ||
         (v.kind == Kind::kString && JsStringToNumber(v.string) == 0))) {
      return Error(at, "division by zero");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::uint32_t> JlCompiler::Operator(std::string_view name,
                                                   const Json& args,
                                                   const Path& path) {
  const OpEntry* entry = nullptr;
  for (const OpEntry& e : kOps) {
    if (e.name == name) entry = &e;
  }
  if (entry == nullptr) {
    if (name == "$ref") {
      return Error(path, absl::StrCat("unresolved $ref ",
                                      args.IsString() ? Quote(View(args)) : "",
                                      " (no such entry in $evaluators, or one "
                                      "declared before the evaluator that uses "
                                      "it)"));
    }
    for (std::string_view u : kUnsupported) {
      if (u == name) {
        return Error(path,
                     absl::StrCat("JSON Logic operator ", Quote(name),
                                  " is not supported by hotfix "
                                  "(docs/openfeature.md lists the ones that "
                                  "are)"));
      }
    }
    return Error(path,
                 absl::StrCat("unknown JSON Logic operator ", Quote(name)));
  }
  const JlOp op = entry->op;
  if (op == JlOp::kVar) return Var(args, path);
  if (op == JlOp::kMissing || op == JlOp::kMissingSome) {
    return MissingOp(op, args, path);
  }
  JlNode n;
  n.op = op;
  std::vector<std::uint32_t> children;
  // Lazy operators json-logic-engine does not compile run their operands
  // with the interpreter.
  const bool lazy = op == JlOp::kIf || op == JlOp::kAnd || op == JlOp::kOr;
  const bool falls_back =
      lazy && (!args.IsArray() || (op == JlOp::kIf && args.Size() < 3));
  if (args.IsArray()) {
    std::size_t count = args.Size();
    // ! and !! read only their first operand.
    if ((op == JlOp::kNot || op == JlOp::kNotNot) && count > 1) count = 1;
    for (rapidjson::SizeType i = 0; i < count; ++i) {
      const Path at(path, std::size_t{i});
      HOTFIX_ASSIGN_OR_RETURN(
          std::uint32_t c,
          falls_back ? CompileInterpreted(args[i], at) : Compile(args[i], at));
      children.push_back(c);
    }
  } else {
    // A single operand written without brackets. For an expression
    // ({"cat": {"var": "x"}}) some operators behave differently.
    n.unary_form = args.IsObject() && args.MemberCount() > 0;
    HOTFIX_ASSIGN_OR_RETURN(
        std::uint32_t c,
        falls_back ? CompileInterpreted(args, path) : Compile(args, path));
    children.push_back(c);
  }
  n.first_child = static_cast<std::uint32_t>(p_->children.size());
  n.child_count = static_cast<std::uint32_t>(children.size());
  p_->children.insert(p_->children.end(), children.begin(), children.end());
  switch (op) {
    case JlOp::kEq:
    case JlOp::kNe:
    case JlOp::kStrictEq:
    case JlOp::kStrictNe:
    case JlOp::kLt:
    case JlOp::kLte:
    case JlOp::kGt:
    case JlOp::kGte:
      if (n.child_count < 2 || n.unary_form) {
        return Error(path, "a comparison takes at least two operands");
      }
      break;
    case JlOp::kAdd:
    case JlOp::kSub:
    case JlOp::kMul:
    case JlOp::kDiv:
    case JlOp::kMod:
      HOTFIX_RETURN_IF_ERROR(CheckArithmetic(op, n, path));
      break;
    default:
      break;
  }
  if ((op == JlOp::kEq || op == JlOp::kNe || op == JlOp::kLt ||
       op == JlOp::kLte || op == JlOp::kGt || op == JlOp::kGte) &&
      !interpreted_) {
    p_->tracks_prev = true;
  }
  if (op == JlOp::kSemVer && !n.unary_form && n.child_count == 3) {
    const JlNode& op_node = p_->nodes[p_->children[n.first_child + 1]];
    const JlNode& target = p_->nodes[p_->children[n.first_child + 2]];
    if (op_node.op == JlOp::kConst && op_node.value.kind == Kind::kString &&
        target.op == JlOp::kConst && target.value.kind == Kind::kString) {
      const JlSemVerOp code = SemVerOpCode(op_node.value.string);
      SemVer version;
      // The target text is pooled, so the prerelease view stays valid.
      if (code != kSemVerInvalid &&
          JsNormalizeSemVer(target.value.string, &version)) {
        n.semver_constant = true;
        n.semver_op = code;
        n.semver_target = version;
      }
    }
  }
  const std::uint32_t index = Add(n);
  if (!Foldable(op)) return index;
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    if (!IsConst(p_->children[n.first_child + i])) return index;
  }
  return Fold(index, path);
}

// Copies a value built in the scratch space into the pool and the program.
JlValue JlCompiler::Persist(const JlValue& v, JlEvaluator& evaluator) {
  JlValue out = v;
  if (v.kind == Kind::kString) {
    out.string = pool_->Intern(v.string);
  } else if (v.kind == Kind::kArray) {
    auto items = std::make_unique<std::vector<JlValue>>();
    for (std::uint32_t i = 0; i < v.size; ++i) {
      JlValue e;
      if (v.node >= 0) {
        const JlNode& n = p_->nodes[static_cast<std::uint32_t>(v.node)];
        evaluator.Eval(p_->children[n.first_child + i], &e);
      } else {
        e = v.items[i];
      }
      items->push_back(Persist(e, evaluator));
    }
    out.items = items->data();
    out.size = static_cast<std::uint32_t>(items->size());
    out.node = -1;
    p_->arrays.push_back(std::move(items));
  }
  return out;
}

absl::StatusOr<std::uint32_t> JlCompiler::Fold(std::uint32_t index,
                                               const Path& path) {
  JlScratch scratch;
  EvalClock clock;
  const Context empty;
  JlEvaluator evaluator(*p_, empty, clock, scratch, /*folding=*/true);
  JlValue v;
  if (!evaluator.Eval(index, &v)) {
    return Error(path,
                 "this expression always fails (flagd reports PARSE_ERROR "
                 "for it)");
  }
  JlValue persisted = Persist(v, evaluator);
  p_->nodes[index] = JlNode();
  p_->nodes[index].op = JlOp::kConst;
  p_->nodes[index].value = persisted;
  return index;
}

void JlCompiler::Resolve(JlValue* v) {
  std::string_view name;
  char digits[kJsNumberChars];
  switch (v->kind) {
    case Kind::kString:
      name = v->string;
      break;
    case Kind::kBool:
      name = v->boolean ? "true" : "false";
      break;
    case Kind::kNumber:
      name = std::string_view(digits, JsNumberToString(v->number, digits));
      break;
    default:
      return;
  }
  v->variant = -1;
  for (std::size_t i = 0; i < flag_.variants.size(); ++i) {
    if (flag_.variants[i].name == name) {
      v->variant = static_cast<std::int32_t>(i);
      break;
    }
  }
}

void JlCompiler::ResolveVariants() {
  for (JlNode& n : p_->nodes) {
    if (n.op == JlOp::kConst) Resolve(&n.value);
  }
  for (auto& array : p_->arrays) {
    for (JlValue& v : *array) Resolve(&v);
  }
}

}  // namespace

absl::Status CompileJsonLogic(const Json& rule, const Path& path,
                              const CompiledFlag& flag, StringPool* pool,
                              JlProgram* out) {
  out->flag_key = pool->Intern(flag.key);
  JlCompiler compiler(flag, pool, out);
  HOTFIX_ASSIGN_OR_RETURN(out->root, compiler.Compile(rule, path));
  compiler.ResolveVariants();
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace hotfix
