// Strategic merge patch for built-in kinds, as kube-apiserver applies it.
#include <catch2/catch.hpp>

#include "test/testenv/merge.h"

using nlohmann::json;
using rio::testenv::strategicMergePatch;

namespace {

json deployment() {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "d1"}, {"labels", {{"app", "d1"}, {"tier", "web"}}}}},
          {"spec",
           {{"replicas", 1},
            {"strategy",
             {{"type", "RollingUpdate"},
              {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}}},
            {"template",
             {{"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"image", "app:1"},
                   {"ports", {{{"containerPort", 8080}, {"protocol", "TCP"}}}},
                   {"env", {{{"name", "A"}, {"value", "1"}}, {{"name", "B"}, {"value", "2"}}}},
                   {"args", {"--x"}}},
                  {{"name", "sidecar"}, {"image", "proxy:1"}}}},
                {"volumes", {{{"name", "cfg"}, {"configMap", {{"name", "c1"}}}}}},
                {"tolerations", {{{"key", "a"}, {"operator", "Exists"}}}}}}}}}}};
}

json patched(const json& original, const json& patch, std::string_view apiVersion = "apps/v1",
             std::string_view kind = "Deployment") {
  auto out = strategicMergePatch(original, patch, apiVersion, kind);
  REQUIRE(out);
  return *out;
}

int errorCode(const json& original, const json& patch, std::string_view apiVersion = "apps/v1",
              std::string_view kind = "Deployment") {
  int code = 0;
  CHECK_NOTHROW([&] {
    auto out = strategicMergePatch(original, patch, apiVersion, kind);
    code = out ? 0 : out.error().code();
  }());
  return code;
}

const json& containers(const json& d) { return d["spec"]["template"]["spec"]["containers"]; }

// {"spec": {"template": {"spec": podSpec}}}
json podSpecPatch(json podSpec) {
  json out;
  out["spec"]["template"]["spec"] = std::move(podSpec);
  return out;
}

json containersPatch(json list) { return podSpecPatch({{"containers", std::move(list)}}); }

}  // namespace

TEST_CASE("strategicMergePatch: containers merge by name and a new one goes first",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), containersPatch(json::parse(R"([
      {"name": "app", "image": "app:2"},
      {"name": "debug", "image": "busybox"}])")));
  REQUIRE(containers(out).size() == 3);
  // As kubectl's documentation shows: patch items first, then the server-only ones.
  CHECK(containers(out)[0]["name"] == "app");
  CHECK(containers(out)[0]["image"] == "app:2");
  CHECK(containers(out)[0]["args"] == json{"--x"});  // untouched fields stay
  CHECK(containers(out)[1]["name"] == "debug");
  CHECK(containers(out)[2]["name"] == "sidecar");
}

TEST_CASE("strategicMergePatch: $patch delete removes a container by name",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), containersPatch(json::parse(R"([
      {"name": "sidecar", "$patch": "delete"}])")));
  REQUIRE(containers(out).size() == 1);
  CHECK(containers(out)[0]["name"] == "app");
}

TEST_CASE("strategicMergePatch: $patch replace on a list makes the patch the list",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), containersPatch(json::parse(R"([
      {"name": "only", "image": "x"}, {"$patch": "replace"}])")));
  CHECK(containers(out) == json::parse(R"([{"name": "only", "image": "x"}])"));
}

TEST_CASE("strategicMergePatch: env merges by name, ports by containerPort, args are replaced",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), containersPatch(json::parse(R"([{
      "name": "app",
      "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
      "ports": [{"containerPort": 8080, "name": "http"}],
      "args": ["--y"]}])")));
  const json& app = containers(out)[0];
  CHECK(app["env"] == json::parse(R"([
      {"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])"));
  CHECK(app["ports"] ==
        json::parse(R"([{"containerPort": 8080, "protocol": "TCP", "name": "http"}])"));
  CHECK(app["args"] == json{"--y"});
}

TEST_CASE("strategicMergePatch: null removes a key, maps merge key by key",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), json::parse(R"({
      "metadata": {"labels": {"tier": null, "new": "x"}},
      "spec": {"replicas": null}})"));
  CHECK(out["metadata"]["labels"] == json{{"app", "d1"}, {"new", "x"}});
  CHECK_FALSE(out["spec"].contains("replicas"));
}

TEST_CASE("strategicMergePatch: tolerations are replaced, volumes merge by name",
          "[testenv][merge][strategic]") {
  const json out = patched(deployment(), podSpecPatch(json::parse(R"({
      "tolerations": [{"key": "b", "operator": "Exists"}],
      "volumes": [{"name": "tmp", "emptyDir": {}}]})")));
  const json& spec = out["spec"]["template"]["spec"];
  CHECK(spec["tolerations"] == json::parse(R"([{"key": "b", "operator": "Exists"}])"));
  CHECK(spec["volumes"].size() == 2);
}

TEST_CASE("strategicMergePatch: $retainKeys drops the keys a union field no longer uses",
          "[testenv][merge][strategic]") {
  const json out = patched(
      deployment(), {{"spec", {{"strategy", {{"$retainKeys", {"type"}}, {"type", "Recreate"}}}}}});
  CHECK(out["spec"]["strategy"] == json{{"type", "Recreate"}});
}

TEST_CASE("strategicMergePatch: finalizers merge as a set and $deleteFromPrimitiveList removes",
          "[testenv][merge][strategic]") {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "c"}, {"finalizers", {"a", "b"}}}},
             {"data", {{"k", "v"}}}};
  json out = patched(cm, {{"metadata", {{"finalizers", {"b", "c"}}}}}, "v1", "ConfigMap");
  // Live items keep their place before the patch's items that follow them in the live list.
  CHECK(out["metadata"]["finalizers"] == json{"a", "b", "c"});
  out = patched(out, {{"metadata", {{"$deleteFromPrimitiveList/finalizers", {"a", "b"}}}}}, "v1",
                "ConfigMap");
  CHECK(out["metadata"]["finalizers"] == json{"c"});
  out = patched(out, {{"data", {{"k2", "v2"}}}}, "v1", "ConfigMap");
  CHECK(out["data"] == json{{"k", "v"}, {"k2", "v2"}});
}

TEST_CASE("strategicMergePatch: ownerReferences merge by uid", "[testenv][merge][strategic]") {
  json cm = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", "s"}, {"ownerReferences", {{{"uid", "1"}, {"kind", "A"}, {"name", "a"}}}}}}};
  const json out =
      patched(cm,
              {{"metadata",
                {{"ownerReferences",
                  {{{"uid", "2"}, {"kind", "B"}, {"name", "b"}},
                   {{"uid", "1"}, {"kind", "A"}, {"name", "a"}, {"controller", true}}}}}}},
              "v1", "Secret");
  CHECK(out["metadata"]["ownerReferences"] ==
        json{{{"uid", "2"}, {"kind", "B"}, {"name", "b"}},
             {{"uid", "1"}, {"kind", "A"}, {"name", "a"}, {"controller", true}}});
}

TEST_CASE("strategicMergePatch: $setElementOrder puts a merged list in the given order",
          "[testenv][merge][strategic]") {
  const json out =
      patched(deployment(),
              {{"spec",
                {{"template",
                  {{"spec",
                    {{"$setElementOrder/containers", {{{"name", "sidecar"}}, {{"name", "app"}}}},
                     {"containers", {{{"name", "app"}, {"image", "app:3"}}}}}}}}}}});
  REQUIRE(containers(out).size() == 2);
  CHECK(containers(out)[0]["name"] == "sidecar");
  CHECK(containers(out)[1]["image"] == "app:3");
}

TEST_CASE("strategicMergePatch: Service ports merge by port, webhooks by name, rules replace",
          "[testenv][merge][strategic]") {
  const json svc = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", "s"}}},
                    {"spec", {{"ports", {{{"port", 443}, {"targetPort", 9443}}}}}}};
  const json svcOut =
      patched(svc, {{"spec", {{"ports", {{{"port", 443}, {"name", "https"}}, {{"port", 80}}}}}}},
              "v1", "Service");
  CHECK(svcOut["spec"]["ports"] ==
        json{{{"port", 443}, {"targetPort", 9443}, {"name", "https"}}, {{"port", 80}}});

  const json mwc = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "MutatingWebhookConfiguration"},
      {"metadata", {{"name", "m"}}},
      {"webhooks",
       {{{"name", "a"}, {"sideEffects", "None"}, {"rules", {{{"operations", {"CREATE"}}}}}}}}};
  const json mwcOut =
      patched(mwc, {{"webhooks", {{{"name", "a"}, {"rules", {{{"operations", {"UPDATE"}}}}}}}}},
              "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration");
  CHECK(mwcOut["webhooks"] ==
        json{{{"name", "a"}, {"sideEffects", "None"}, {"rules", {{{"operations", {"UPDATE"}}}}}}});

  const json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "Role"},
                     {"metadata", {{"name", "r"}}},
                     {"rules", {{{"verbs", {"get"}}}, {{"verbs", {"list"}}}}}};
  const json roleOut =
      patched(role, {{"rules", {{{"verbs", {"watch"}}}}}}, "rbac.authorization.k8s.io/v1", "Role");
  CHECK(roleOut["rules"] == json{{{"verbs", {"watch"}}}});

  const json ep = {{"apiVersion", "v1"},
                   {"kind", "Endpoints"},
                   {"metadata", {{"name", "e"}}},
                   {"subsets", {{{"addresses", {{{"ip", "10.0.0.1"}}}}}}}};
  const json epOut =
      patched(ep, {{"subsets", {{{"addresses", {{{"ip", "10.0.0.2"}}}}}}}}, "v1", "Endpoints");
  CHECK(epOut["subsets"] == json{{{"addresses", {{{"ip", "10.0.0.2"}}}}}});
}

TEST_CASE("strategicMergePatch: $patch replace and delete on maps", "[testenv][merge][strategic]") {
  json out =
      patched(deployment(), {{"metadata", {{"labels", {{"$patch", "replace"}, {"only", "x"}}}}}});
  CHECK(out["metadata"]["labels"] == json{{"only", "x"}});
  out = patched(deployment(), {{"metadata", {{"labels", {{"$patch", "delete"}}}}}});
  CHECK(out["metadata"]["labels"] == json::object());
}

TEST_CASE("strategicMergePatch: custom resources are refused with 415 as the real server does",
          "[testenv][merge][strategic]") {
  const json cr = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"spec", {{"size", 1}}}};
  auto out = strategicMergePatch(cr, {{"spec", {{"size", 2}}}}, "example.com/v1", "Widget");
  REQUIRE_FALSE(out);
  CHECK(out.error().code() == 415);
  CHECK(out.error().reason() == "UnsupportedMediaType");
  CHECK(out.error().message() ==
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml");
}

TEST_CASE("strategicMergePatch: malformed patches are Status errors, never exceptions",
          "[testenv][merge][strategic]") {
  const json d = deployment();
  CHECK(errorCode(d, json::array()) == 400);
  CHECK(errorCode(d, "x") == 400);
  CHECK(errorCode(d, 5) == 400);
  CHECK(errorCode(d, json::parse(R"({"spec": {"strategy": {"$retainKeys": "type"}}})")) == 400);
  CHECK(errorCode(d, json::parse(
                         R"({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}})")) == 400);
  CHECK(errorCode(d, podSpecPatch({{"$setElementOrder/containers", 1}})) == 400);
  CHECK(errorCode(d, json::parse(R"({"metadata": {"$patch": "merge"}})")) == 500);
  CHECK(errorCode(d, containersPatch(json::parse(R"([{"image": "no-name"}])"))) == 500);
  CHECK(errorCode(d, containersPatch(json::parse(R"([{"name": "app", "$patch": "merge"}])"))) ==
        500);
  CHECK(errorCode(d, containersPatch(json::parse(R"([{"$patch": "delete"}])"))) == 500);
  CHECK(errorCode(d, containersPatch({1, 2})) == 500);
  json withLists = d;
  withLists["metadata"]["finalizers"] = json::array();
  CHECK(errorCode(withLists, json::parse(R"({"metadata": {"finalizers": [["nested"]]}})")) == 422);
  // Odd but valid shapes: type changes replace, unknown directives are dropped.
  CHECK(errorCode(d, json::parse(R"({"spec": {"template": "x"}})")) == 0);
  CHECK(errorCode(d, json::parse(R"({"spec": {"$unknown": 1}})")) == 0);
  CHECK(errorCode(json::array(), {{"a", 1}}) == 0);
  CHECK(errorCode(d, nullptr) == 0);
}
