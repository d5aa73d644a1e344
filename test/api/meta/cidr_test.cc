#include "api/meta/cidr.h"

#include <catch2/catch.hpp>

using rio::meta::Cidr;

TEST_CASE("Cidr: parses IPv4 and IPv6 networks and prints them canonically", "[api][cidr]") {
  CHECK(Cidr::parse("10.0.0.0/8")->toString() == "10.0.0.0/8");
  CHECK(Cidr::parse("10.1.2.3/8")->toString() == "10.0.0.0/8");  // host bits allowed, cleared
  CHECK(Cidr::parse("0.0.0.0/0")->toString() == "0.0.0.0/0");
  CHECK(Cidr::parse("fd00:1::5/48")->toString() == "fd00:1::/48");
  CHECK(Cidr::parse("::ffff:10.0.0.0/104"));
  CHECK(Cidr::parse("10.0.0.0/8")->isIPv4());
  CHECK_FALSE(Cidr::parse("fd00::/8")->isIPv4());
}

TEST_CASE("Cidr: rejects what net.ParseCIDR rejects", "[api][cidr]") {
  for (const char* bad :
       {"", "10.0.0.0", "10.0.0.0/33", "10.0.0/8", "10.0.0.0.0/8", "010.0.0.0/8", "256.0.0.0/8",
        "10.0.0.0/08", "10.0.0.0/", "/8", "fd00::/129", "fd00:::1/64", "fe80::1%eth0/64",
        "10.0.0.0/8 ", " 10.0.0.0/8", "a.b.c.d/8"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::parse(bad));
  }
}

TEST_CASE("Cidr: overlap and containment are decided by the shorter prefix", "[api][cidr]") {
  auto a = *Cidr::parse("10.0.0.0/8");
  auto b = *Cidr::parse("10.20.0.0/16");
  auto c = *Cidr::parse("192.168.0.0/16");
  auto v6 = *Cidr::parse("::/0");
  CHECK(a.overlaps(b));
  CHECK(b.overlaps(a));
  CHECK(a.contains(b));
  CHECK_FALSE(b.contains(a));
  CHECK_FALSE(a.overlaps(c));
  CHECK_FALSE(a.overlaps(v6));  // different families never overlap
  CHECK(Cidr::parse("172.16.0.0/12")->overlaps(*Cidr::parse("172.31.255.0/24")));
  CHECK_FALSE(Cidr::parse("172.16.0.0/12")->overlaps(*Cidr::parse("172.32.0.0/16")));
}
