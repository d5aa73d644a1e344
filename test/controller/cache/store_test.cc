#include "controller/cache/store.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::cache;
using Json = nlohmann::json;

namespace {

ObjectPtr obj(const std::string& ns, const std::string& name, const std::string& rv,
              Json labels = Json::object()) {
  return std::make_shared<const Json>(
      Json{{"metadata",
            {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}, {"labels", labels}}}});
}

std::vector<std::string> names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> out;
  out.reserve(objects.size());
  for (const auto& o : objects) out.push_back((*o)["metadata"]["name"]);
  return out;
}

}  // namespace

TEST_CASE("Store: get, list and list by namespace", "[cache][store]") {
  Store store;
  store.upsert(obj("a", "x", "1"));
  store.upsert(obj("b", "y", "2"));
  store.upsert(obj("a", "z", "3"));
  CHECK(store.size() == 3);
  REQUIRE(store.get({"a", "x"}));
  CHECK((*store.get({"a", "x"}))["metadata"]["resourceVersion"] == "1");
  CHECK_FALSE(store.get({"a", "nope"}));
  CHECK(names(store.list()) == std::vector<std::string>{"x", "z", "y"});
  CHECK(names(store.list("a")) == std::vector<std::string>{"x", "z"});
  CHECK(store.list("c").empty());
}

TEST_CASE("Store: upsert returns the previous version and erase the removed object",
          "[cache][store]") {
  Store store;
  CHECK_FALSE(store.upsert(obj("a", "x", "1")));
  auto old = store.upsert(obj("a", "x", "2"));
  REQUIRE(old);
  CHECK((*old)["metadata"]["resourceVersion"] == "1");
  auto removed = store.erase({"a", "x"});
  REQUIRE(removed);
  CHECK((*removed)["metadata"]["resourceVersion"] == "2");
  CHECK_FALSE(store.erase({"a", "x"}));
  CHECK(store.size() == 0);
}

TEST_CASE("Store: indexes by label value and by namespace follow updates and deletes",
          "[cache][store]") {
  Store store({{"owner", indexByLabel("example.com/owner")}, {"namespace", indexByNamespace()}});
  store.upsert(obj("a", "x", "1", {{"example.com/owner", "o1"}}));
  store.upsert(obj("b", "y", "1", {{"example.com/owner", "o1"}}));
  store.upsert(obj("a", "z", "1"));
  CHECK(names(store.byIndex("owner", "o1")) == std::vector<std::string>{"x", "y"});
  CHECK(names(store.byIndex("namespace", "a")) == std::vector<std::string>{"x", "z"});

  store.upsert(obj("a", "x", "2", {{"example.com/owner", "o2"}}));  // the label moved
  CHECK(names(store.byIndex("owner", "o1")) == std::vector<std::string>{"y"});
  CHECK(names(store.byIndex("owner", "o2")) == std::vector<std::string>{"x"});
  store.erase({"b", "y"});
  CHECK(store.byIndex("owner", "o1").empty());
  CHECK(store.byIndex("unknown-index", "o1").empty());
}

TEST_CASE("Store: a snapshot never changes under its reader", "[cache][store]") {
  Store store;
  store.upsert(obj("a", "x", "1"));
  SnapshotPtr before = store.snapshot();
  CHECK(store.snapshot() == before);  // no write, same snapshot
  ObjectPtr x1 = store.get({"a", "x"});
  store.upsert(obj("a", "x", "2"));
  store.upsert(obj("a", "y", "1"));
  store.erase({"a", "x"});
  REQUIRE(before->size() == 1);
  CHECK((*before->at({"a", "x"}))["metadata"]["resourceVersion"] == "1");
  CHECK((*x1)["metadata"]["resourceVersion"] == "1");  // objects are immutable too
  SnapshotPtr after = store.snapshot();
  CHECK(after != before);
  CHECK(after->size() == 1);
  CHECK(after->count({"a", "y"}) == 1);
}

TEST_CASE("Store: replace swaps the whole content and reports what changed", "[cache][store]") {
  Store store({{"owner", indexByLabel("o")}});
  store.upsert(obj("a", "kept", "1", {{"o", "1"}}));
  store.upsert(obj("a", "changed", "1"));
  store.upsert(obj("a", "gone", "1", {{"o", "1"}}));
  ObjectPtr kept = store.get({"a", "kept"});

  Snapshot fresh;
  fresh[{"a", "kept"}] = obj("a", "kept", "1", {{"o", "1"}});
  fresh[{"a", "changed"}] = obj("a", "changed", "2");
  fresh[{"a", "new"}] = obj("a", "new", "5", {{"o", "1"}});
  auto diff = store.replace(std::move(fresh));

  CHECK(names(diff.added) == std::vector<std::string>{"new"});
  CHECK(names(diff.deleted) == std::vector<std::string>{"gone"});
  REQUIRE(diff.updated.size() == 1);
  CHECK((*diff.updated[0].first)["metadata"]["resourceVersion"] == "1");
  CHECK((*diff.updated[0].second)["metadata"]["resourceVersion"] == "2");
  CHECK(store.size() == 3);
  CHECK_FALSE(store.get({"a", "gone"}));
  CHECK(store.get({"a", "kept"}) == kept);  // unchanged objects keep their pointer
  CHECK(names(store.byIndex("owner", "1")) == std::vector<std::string>{"kept", "new"});
}
