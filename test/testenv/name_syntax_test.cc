// The hand-written name syntaxes against the regular expressions apimachinery writes them as:
// every string up to five characters over an alphabet with one character of each class.
#include "test/testenv/name_syntax.h"

#include <catch2/catch.hpp>

#include <functional>
#include <regex>
#include <string>
#include <vector>

using namespace rio::testenv;

namespace {

std::vector<std::string> everyString(std::string_view alphabet, std::size_t maxLength) {
  std::vector<std::string> out{""};
  std::vector<std::string> previous{""};
  for (std::size_t n = 1; n <= maxLength; ++n) {
    std::vector<std::string> next;
    for (const auto& s : previous) {
      for (char c : alphabet) next.push_back(s + c);
    }
    out.insert(out.end(), next.begin(), next.end());
    previous = std::move(next);
  }
  return out;
}

void agrees(const char* pattern, const std::function<bool(std::string_view)>& matcher) {
  const std::regex re(pattern);
  std::size_t accepted = 0;
  for (const auto& s : everyString("aZ0-_./", 5)) {
    INFO("pattern " << pattern << ", input \"" << s << "\"");
    const bool expected = std::regex_match(s, re);
    CHECK(matcher(s) == expected);
    if (expected) ++accepted;
  }
  CHECK(accepted > 0);  // the alphabet reaches both answers
}

}  // namespace

TEST_CASE("Name syntax: each matcher accepts exactly what its regular expression matches",
          "[testenv][validation]") {
  agrees("[a-z0-9]([-a-z0-9]*[a-z0-9])?", syntax::isDns1123Label);
  agrees("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
         syntax::isDns1123Subdomain);
  agrees("[a-z]([-a-z0-9]*[a-z0-9])?", syntax::isDns1035Label);
  agrees("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", syntax::isQualifiedNamePart);
  agrees("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", syntax::isLabelValueSyntax);
  agrees("[-._a-zA-Z0-9]+", syntax::isConfigKeySyntax);
}
