#include "controller/core/yaml.h"

#include <catch2/catch.hpp>

using namespace rio;
using nlohmann::json;

TEST_CASE("yaml: plain scalars are typed as kubectl reads them, quoted ones stay strings", "[yaml]") {
  auto j = yaml::yamlToJson("a: yes\nb: '1'\nc: 10\nd: 1.5\ne: ~\nf: on\ng: \"true\"\nh: 0x1F\ni: text\n");
  REQUIRE(j);
  CHECK(*j == json::parse(R"({"a":true,"b":"1","c":10,"d":1.5,"e":null,"f":true,"g":"true","h":31,"i":"text"})"));
}

TEST_CASE("yaml: what jsonToYaml writes reads back as the same JSON", "[yaml]") {
  json v = json::parse(R"({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "x", "labels": {"istio/multiCluster": "true", "n": "10", "empty": ""},
                 "annotations": {"a": "no", "b": "- item", "c": "key: value", "d": "#hash", "e": " pad "}},
    "data": {"k": "YWJj"}, "list": [1, "2", true, null, {"x": []}, {}], "multi": "line one\nline two\n",
    "f": 2.5, "n": -3, "null": null, "tab": "a\tb", "star": "*", "q": "it's \"quoted\""
  })");
  std::string text = yaml::jsonToYaml(v);
  INFO(text);
  auto back = yaml::yamlToJson(text);
  REQUIRE(back);
  CHECK(*back == v);
  CHECK(text.find("apiVersion: v1\n") != std::string::npos);
  CHECK(text.find("istio/multiCluster: \"true\"") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("yaml: several documents are separated by --- and read back in order", "[yaml]") {
  std::vector<json> docs = {{{"kind", "Secret"}}, {{"kind", "MeshMembership"}}};
  std::string text = yaml::jsonToYamlAll(docs);
  CHECK(text == "kind: Secret\n---\nkind: MeshMembership\n");
  auto back = yaml::yamlToJsonAll("---\n" + text + "---\n");
  REQUIRE(back);
  CHECK(*back == docs);
}

TEST_CASE("yaml: bad input is an error naming the line, never its content; deep nesting is refused", "[yaml]") {
  auto bad = yaml::yamlToJson("a: b\nc: [unclosed-secret-value\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::kDecode);
  CHECK(bad.error().message().find("unclosed-secret-value") == std::string::npos);
  auto deep = yaml::yamlToJson(std::string(300, '[') + std::string(300, ']'));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message() == "yaml: exceeded max depth");
}

TEST_CASE("yaml: a JSON document reads as the same value as its YAML spelling", "[yaml]") {
  // JSON objects take a faster path than YAML; both must agree.
  const std::string asJson = R"({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "x", "labels": {"n": "10", "b": "true"}},
    "data": {"u": "\u00e9t\u00e9 \"q\" \\ /", "empty": ""},
    "list": [1, -2, 2.5, 1e3, true, false, null, [], {}, {"x": [{"y": "z"}]}]})";
  const std::string asYaml =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    n: \"10\"\n"
      "    b: \"true\"\ndata:\n  u: \"\u00e9t\u00e9 \\\"q\\\" \\\\ /\"\n  empty: \"\"\n"
      "list: [1, -2, 2.5, 1000.0, true, false, null, [], {}, {x: [{y: z}]}]\n";
  auto fromJson = yaml::yamlToJson(asJson);
  auto fromYaml = yaml::yamlToJson(asYaml);
  REQUIRE(fromJson);
  REQUIRE(fromYaml);
  CHECK(*fromJson == *fromYaml);
  CHECK(fromJson->at("data").at("u") == "\u00e9t\u00e9 \"q\" \\ /");

  // YAML flow style, comments and trailing documents are not JSON: the YAML reader takes them.
  auto flow = yaml::yamlToJson("{a: yes, b: '1'} # comment\n");
  REQUIRE(flow);
  CHECK(*flow == json::parse(R"({"a": true, "b": "1"})"));
  auto twoDocs = yaml::yamlToJson("{\"a\": 1}\n---\n{\"b\": 2}\n");
  REQUIRE(twoDocs);
  CHECK(*twoDocs == json::parse(R"({"a": 1})"));
  // Deep nesting is refused before either reader sees it.
  auto deep = yaml::yamlToJson(std::string(300, '{') + std::string(300, '}'));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message() == "yaml: exceeded max depth");
}
