#include "test/testenv/json_path.h"

#include <cctype>

namespace rio::testenv {

struct JsonPath::Step {
  enum class Kind { kField, kIndex, kWildcard, kFilter } kind;
  std::string field;
  long long index = 0;
  // Filters: `@<path> <op> <literal>` or `@<path>` (existence).
  std::vector<std::shared_ptr<const Step>> filterPath;
  std::string op;  // empty: existence
  nlohmann::json literal;
};

namespace {

using Step = JsonPath::Step;
using StepPtr = std::shared_ptr<const Step>;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Expected<std::vector<StepPtr>> parsePath(bool inFilter) {
    std::vector<StepPtr> steps;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (inFilter && (c == '=' || c == '!' || c == '<' || c == '>' || c == ')' || c == ' ')) break;
      if (c == '.') {
        ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '.')
          return fail(Error::invalid("recursive descent is not supported"));
        std::string name;
        while (pos_ < s_.size()) {
          char d = s_[pos_];
          if (d == '\\' && pos_ + 1 < s_.size()) {
            name += s_[pos_ + 1];
            pos_ += 2;
            continue;
          }
          if (d == '.' || d == '[') break;
          if (inFilter && (d == '=' || d == '!' || d == '<' || d == '>' || d == ')' || d == ' '))
            break;
          name += d;
          ++pos_;
        }
        if (name.empty()) continue;  // a lone "." is the root
        auto st = std::make_shared<Step>();
        if (name == "*") {
          st->kind = Step::Kind::kWildcard;
        } else {
          st->kind = Step::Kind::kField;
          st->field = name;
        }
        steps.push_back(st);
      } else if (c == '[') {
        auto st = parseBracket();
        if (!st) return fail(st.error());
        steps.push_back(*st);
      } else {
        // A leading bare name ("spec.size").
        if (steps.empty() && !inFilter &&
            (std::isalpha(static_cast<unsigned char>(c)) || c == '_')) {
          s_.insert(pos_, 1, '.');
          continue;
        }
        return fail(Error::invalid(std::string("unexpected character '") + c + "' in JSONPath"));
      }
    }
    return steps;
  }

 private:
  Expected<StepPtr> parseBracket() {
    ++pos_;  // [
    auto st = std::make_shared<Step>();
    skipSpaces();
    if (pos_ >= s_.size()) return fail(Error::invalid("unterminated ["));
    char c = s_[pos_];
    if (c == '\'' || c == '"') {
      std::string name;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        name += s_[pos_++];
      }
      if (pos_ >= s_.size()) return fail(Error::invalid("unterminated string"));
      ++pos_;
      st->kind = Step::Kind::kField;
      st->field = name;
    } else if (c == '*') {
      ++pos_;
      st->kind = Step::Kind::kWildcard;
    } else if (c == '?') {
      ++pos_;
      skipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '(') return fail(Error::invalid("expected ( after ?"));
      ++pos_;
      skipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '@')
        return fail(Error::invalid("filters must start with @"));
      ++pos_;
      auto path = parsePath(true);
      if (!path) return fail(path.error());
      st->kind = Step::Kind::kFilter;
      st->filterPath = std::move(*path);
      skipSpaces();
      std::string op;
      while (pos_ < s_.size() &&
             (s_[pos_] == '=' || s_[pos_] == '!' || s_[pos_] == '<' || s_[pos_] == '>')) {
        op += s_[pos_++];
      }
      if (!op.empty()) {
        if (op != "==" && op != "!=" && op != "<" && op != ">" && op != "<=" && op != ">=") {
          return fail(Error::invalid("unknown operator " + op));
        }
        st->op = op;
        skipSpaces();
        auto lit = parseLiteral();
        if (!lit) return fail(lit.error());
        st->literal = *lit;
      }
      skipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != ')') return fail(Error::invalid("expected ) in filter"));
      ++pos_;
    } else {
      std::string num;
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-')) {
        num += s_[pos_++];
      }
      if (num.empty()) return fail(Error::invalid("unsupported bracket expression"));
      try {
        st->index = std::stoll(num);
      } catch (...) {
        return fail(Error::invalid("bad index " + num));
      }
      st->kind = Step::Kind::kIndex;
    }
    skipSpaces();
    if (pos_ >= s_.size() || s_[pos_] != ']') return fail(Error::invalid("expected ]"));
    ++pos_;
    return StepPtr(st);
  }

  Expected<nlohmann::json> parseLiteral() {
    if (pos_ >= s_.size()) return fail(Error::invalid("expected a value"));
    char c = s_[pos_];
    if (c == '"' || c == '\'') {
      std::string v;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        v += s_[pos_++];
      }
      if (pos_ >= s_.size()) return fail(Error::invalid("unterminated string"));
      ++pos_;
      return nlohmann::json(v);
    }
    std::string tok;
    while (pos_ < s_.size() && s_[pos_] != ')' && s_[pos_] != ' ') tok += s_[pos_++];
    if (tok == "true") return nlohmann::json(true);
    if (tok == "false") return nlohmann::json(false);
    try {
      std::size_t used = 0;
      double d = std::stod(tok, &used);
      if (used == tok.size()) return nlohmann::json(d);
    } catch (...) {
    }
    return fail(Error::invalid("unrecognized literal " + tok));
  }

  void skipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }

  std::string s_;
  std::size_t pos_ = 0;
};

void apply(const std::vector<StepPtr>& steps, std::size_t i, const nlohmann::json& node,
           std::vector<nlohmann::json>& out);

bool compare(const nlohmann::json& have, const std::string& op, const nlohmann::json& want) {
  if (have.is_number() && want.is_number()) {
    double a = have.get<double>(), b = want.get<double>();
    if (op == "==") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == ">") return a > b;
    if (op == "<=") return a <= b;
    if (op == ">=") return a >= b;
    return false;
  }
  if (op == "==") return have == want;
  if (op == "!=") return have != want;
  if (have.is_string() && want.is_string()) {
    const auto& a = have.get_ref<const std::string&>();
    const auto& b = want.get_ref<const std::string&>();
    if (op == "<") return a < b;
    if (op == ">") return a > b;
    if (op == "<=") return a <= b;
    if (op == ">=") return a >= b;
  }
  return false;
}

void apply(const std::vector<StepPtr>& steps, std::size_t i, const nlohmann::json& node,
           std::vector<nlohmann::json>& out) {
  if (i == steps.size()) {
    out.push_back(node);
    return;
  }
  const Step& st = *steps[i];
  switch (st.kind) {
    case Step::Kind::kField:
      if (node.is_object()) {
        auto it = node.find(st.field);
        if (it != node.end()) apply(steps, i + 1, *it, out);
      }
      break;
    case Step::Kind::kIndex:
      if (node.is_array()) {
        long long n = static_cast<long long>(node.size());
        long long idx = st.index < 0 ? n + st.index : st.index;
        if (idx >= 0 && idx < n) apply(steps, i + 1, node[static_cast<std::size_t>(idx)], out);
      }
      break;
    case Step::Kind::kWildcard:
      if (node.is_array() || node.is_object()) {
        for (const auto& child : node) apply(steps, i + 1, child, out);
      }
      break;
    case Step::Kind::kFilter:
      if (node.is_array()) {
        for (const auto& child : node) {
          std::vector<nlohmann::json> found;
          apply(st.filterPath, 0, child, found);
          bool keep = st.op.empty() ? !found.empty()
                                    : (!found.empty() && compare(found.front(), st.op, st.literal));
          if (keep) apply(steps, i + 1, child, out);
        }
      }
      break;
  }
}

}  // namespace

Expected<JsonPath> JsonPath::parse(std::string_view expression) {
  std::string_view e = expression;
  while (!e.empty() && e.front() == ' ') e.remove_prefix(1);
  while (!e.empty() && e.back() == ' ') e.remove_suffix(1);
  if (e.size() >= 2 && e.front() == '{' && e.back() == '}') e = e.substr(1, e.size() - 2);
  if (!e.empty() && e.front() == '$') e.remove_prefix(1);
  Parser parser(e);
  auto steps = parser.parsePath(false);
  if (!steps) return fail(steps.error());
  JsonPath path;
  path.steps_ = std::move(*steps);
  return path;
}

std::vector<nlohmann::json> JsonPath::evaluate(const nlohmann::json& root) const {
  std::vector<nlohmann::json> out;
  apply(steps_, 0, root, out);
  return out;
}

}  // namespace rio::testenv
