#include "api/meta/quantity.h"

#include <regex>

#include <catch2/catch.hpp>

namespace meta = rio::meta;

TEST_CASE("Quantity: parses Kubernetes quantities", "[api][quantity]") {
  CHECK(*meta::parseQuantity("100m") == Approx(0.1));
  CHECK(*meta::parseQuantity("2") == Approx(2));
  CHECK(*meta::parseQuantity("128Mi") == Approx(128.0 * 1024 * 1024));
  CHECK(*meta::parseQuantity("1Gi") == Approx(1024.0 * 1024 * 1024));
  CHECK(*meta::parseQuantity("1.5G") == Approx(1.5e9));
  CHECK(*meta::parseQuantity("1e3") == Approx(1000));
  CHECK(*meta::parseQuantity("-1") == Approx(-1));
  CHECK(*meta::parseQuantity(".5") == Approx(0.5));
  CHECK(meta::Quantity{nlohmann::json(2)}.value());
  CHECK(meta::Quantity{nlohmann::json(1.5)}.toString() == "1.5");
}

TEST_CASE("Quantity: the parser and the CRD pattern accept the same texts", "[api][quantity]") {
  const std::regex pattern{std::string(meta::kQuantityPattern)};
  for (const char* ok :
       {"1", "100m", "128Mi", "1.", ".5", "+1", "-2k", "1e3", "1E-3", "5n", "5u", "2Ei"}) {
    INFO(ok);
    CHECK(meta::parseQuantity(ok));
    CHECK(std::regex_search(ok, pattern));
  }
  for (const char* bad : {"", "m", "1 m", "1mi", "1MB", "1.2.3", "abc", "1e", "Gi", "--1", "."}) {
    INFO(bad);
    CHECK_FALSE(meta::parseQuantity(bad));
    CHECK_FALSE(std::regex_search(bad, pattern));
  }
}
