// Untrusted input: random documents through every merge entry point must give results or Status
// errors, never exceptions or crashes. Deterministic (fixed seed).
#include <random>

#include <catch2/catch.hpp>

#include "test/testenv/merge.h"

using nlohmann::json;

namespace {

class RandomJson {
 public:
  explicit RandomJson(std::uint32_t seed) : rng_(seed) {}

  json value(int depth) {
    switch (pick(depth > 0 ? 7 : 4)) {
      case 0:
        return nullptr;
      case 1:
        return word();
      case 2:
        return static_cast<int>(pick(100)) - 10;
      case 3:
        return pick(2) == 0;
      case 4:
      case 5:
        return object(depth - 1);
      default: {
        json arr = json::array();
        for (unsigned i = 0, n = pick(4); i < n; ++i) arr.push_back(value(depth - 1));
        return arr;
      }
    }
  }

  json object(int depth) {
    json obj = json::object();
    for (unsigned i = 0, n = pick(5); i < n; ++i) obj[word()] = value(depth);
    return obj;
  }

  std::string word() {
    static const char* const kWords[] = {"name",
                                         "image",
                                         "containers",
                                         "spec",
                                         "template",
                                         "metadata",
                                         "labels",
                                         "ports",
                                         "port",
                                         "containerPort",
                                         "protocol",
                                         "env",
                                         "$patch",
                                         "delete",
                                         "replace",
                                         "merge",
                                         "$retainKeys",
                                         "finalizers",
                                         "$setElementOrder/containers",
                                         "$deleteFromPrimitiveList/finalizers",
                                         "data",
                                         "k",
                                         "volumes",
                                         "status",
                                         "managedFields",
                                         "ownerReferences",
                                         "uid",
                                         "selector"};
    return kWords[pick(sizeof(kWords) / sizeof(kWords[0]))];
  }

  unsigned pick(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_); }

 private:
  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("merge: random documents never throw through any entry point",
          "[testenv][merge][robustness]") {
  RandomJson gen(20261125);
  const rio::WallTime now{};
  json chained = nullptr;  // results fed back in, so stored managedFields are exercised too
  for (int i = 0; i < 400; ++i) {
    json live = gen.object(4);
    live["apiVersion"] = i % 2 ? "apps/v1" : "v1";
    live["kind"] = i % 2 ? "Deployment" : "ConfigMap";
    const std::string apiVersion = live["apiVersion"];
    json patch = gen.value(4);
    json applied = gen.object(4);
    applied["apiVersion"] = apiVersion;
    applied["kind"] = live["kind"];

    CHECK_NOTHROW(rio::testenv::strategicMergePatch(live, patch, apiVersion,
                                                    live["kind"].get<std::string>()));
    CHECK_NOTHROW(rio::testenv::recordUpdate(live, applied, "m", apiVersion, "", now));
    CHECK_NOTHROW(rio::testenv::recordUpdate(nullptr, applied, "m", apiVersion, "", now));
    json cm = gen.object(3);
    cm["apiVersion"] = "v1";
    cm["kind"] = "ConfigMap";
    CHECK_NOTHROW([&] {
      const std::string manager = gen.word();
      auto out = rio::testenv::serverSideApply(chained, cm, manager, i % 3 == 0, "v1", "", now);
      if (out) chained = out->object;
      chained = rio::testenv::recordUpdate(chained, cm, gen.word(), "v1", "", now);
    }());
    for (bool force : {false, true}) {
      CHECK_NOTHROW([&] {
        auto out = rio::testenv::serverSideApply(live, applied, "m", force, apiVersion, "", now);
        if (out && !out->conflicts.empty()) {
          (void)rio::testenv::conflictStatus(out->conflicts, apiVersion);
        }
      }());
    }
  }
}
