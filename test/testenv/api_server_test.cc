#include "test/testenv/api_server.h"

#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

TEST_CASE("ApiServer: a ConfigMap is created and read back", "[testenv][storage]") {
  Harness h;
  auto created = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt"));
  REQUIRE(created.status == 201);
  auto got = h.get("/api/v1/namespaces/demo/configmaps/c1");
  REQUIRE(got.status == 200);
  CHECK(got.body["data"]["k"] == "v");
}
