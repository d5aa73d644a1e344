#include "reconcilers/desired/quantity.h"

#include <catch2/catch.hpp>

using rio::desired::canonicalQuantity;

TEST_CASE("canonicalQuantity: decimal quantities take the largest suffix that keeps an integer",
          "[desired][quantity]") {
  CHECK(canonicalQuantity("2000m") == "2");
  CHECK(canonicalQuantity("100m") == "100m");
  CHECK(canonicalQuantity("1500m") == "1500m");
  CHECK(canonicalQuantity("0.5") == "500m");
  CHECK(canonicalQuantity("1.5m") == "1500u");
  CHECK(canonicalQuantity("2") == "2");
  CHECK(canonicalQuantity("1000") == "1k");
  CHECK(canonicalQuantity("0") == "0");
  CHECK(canonicalQuantity("0.0000000001") == "1n");  // finer than 1n rounds up
}

TEST_CASE("canonicalQuantity: binary quantities stay binary when whole, else become decimal",
          "[desired][quantity]") {
  CHECK(canonicalQuantity("1024Mi") == "1Gi");
  CHECK(canonicalQuantity("128Mi") == "128Mi");
  CHECK(canonicalQuantity("1.5Gi") == "1536Mi");
  CHECK(canonicalQuantity("1Ki") == "1Ki");
  CHECK(canonicalQuantity("0.5Ki") == "512");
}

TEST_CASE("canonicalQuantity: exponents and text that is no quantity are returned as written",
          "[desired][quantity]") {
  CHECK(canonicalQuantity("1e3") == "1e3");
  CHECK(canonicalQuantity("abc") == "abc");
  CHECK(canonicalQuantity("") == "");
  CHECK(canonicalQuantity("12Qi") == "12Qi");
}
