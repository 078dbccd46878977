// The webhook SSRF guard: IP parsing, CIDR lists, address classes, the
// destination check and webhook URL parsing.
#include "services/delivery/domain/network_policy.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using crm::delivery::domain::AddressClass;
using crm::delivery::domain::AddressClassName;
using crm::delivery::domain::CheckDestination;
using crm::delivery::domain::Cidr;
using crm::delivery::domain::Classify;
using crm::delivery::domain::Contains;
using crm::delivery::domain::IpAddress;
using crm::delivery::domain::ParseCidrList;
using crm::delivery::domain::ParseIp;
using crm::delivery::domain::ParseWebhookUrl;
using crm::delivery::domain::ToString;

IpAddress Ip(const std::string& text) {
  auto ip = ParseIp(text);
  INFO(text);
  REQUIRE(ip.has_value());
  return *ip;
}

AddressClass ClassOf(const std::string& text) { return Classify(Ip(text)); }

std::vector<Cidr> Cidrs(const std::string& text) {
  auto list = ParseCidrList(text);
  INFO(text);
  REQUIRE(list.ok());
  return *list;
}

std::string UrlError(const std::string& url) {
  auto parsed = ParseWebhookUrl(url);
  INFO(url);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST_CASE("ParseIp reads strict dotted quads into IPv4-mapped bytes", "[delivery][ip]") {
  IpAddress ip = Ip("192.0.2.33");
  CHECK(ip.v4);
  std::array<uint8_t, 16> want{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 33};
  CHECK(ip.bytes == want);
  CHECK(ToString(ip) == "192.0.2.33");
  CHECK(ToString(Ip("0.0.0.0")) == "0.0.0.0");
  CHECK(ToString(Ip("255.255.255.255")) == "255.255.255.255");
}

TEST_CASE("ParseIp rejects inet_aton forms and malformed IPv4", "[delivery][ip]") {
  for (const char* bad :
       {"010.0.0.1",  "0x7f.1",    "0x7f.0.0.1", "2130706433", "127.1",  "127.0.1",
        "1.2.3.4.5",  "256.0.0.1", "1.2.3.",     ".1.2.3",     "1..2.3", "1.2.3.-4",
        "01.2.3.4",   "1.2.3.04",  " 1.2.3.4",   "1.2.3.4 ",   "",       "[1.2.3.4]",
        "1.2.3.4/32", "a.b.c.d",   "1.2.3.4444"}) {
    INFO(bad);
    CHECK_FALSE(ParseIp(bad).has_value());
  }
}

TEST_CASE("ParseIp reads every RFC 4291 IPv6 text form", "[delivery][ip]") {
  CHECK(ToString(Ip("::")) == "::");
  CHECK(ToString(Ip("::1")) == "::1");
  CHECK(ToString(Ip("[::1]")) == "::1");
  CHECK(ToString(Ip("2001:DB8:0:0:8:800:200C:417A")) == "2001:db8::8:800:200c:417a");
  CHECK(ToString(Ip("2001:0db8:0000:0000:0000:0000:0000:0001")) == "2001:db8::1");
  CHECK(ToString(Ip("ff01::101")) == "ff01::101");
  CHECK(ToString(Ip("1:2:3:4:5:6:7::")) == "1:2:3:4:5:6:7:0");
  CHECK(ToString(Ip("1:0:0:2:0:0:0:3")) == "1:0:0:2::3");       // the longest zero run
  CHECK(ToString(Ip("1:0:0:2:3:0:0:4")) == "1::2:3:0:0:4");     // the first on a tie
  CHECK(ToString(Ip("1:0:2:3:4:5:6:7")) == "1:0:2:3:4:5:6:7");  // no "::" for one group
  CHECK(ToString(Ip("0:0:0:0:0:0:13.1.68.3")) == "::d01:4403");
  IpAddress mapped = Ip("::ffff:1.2.3.4");
  CHECK_FALSE(mapped.v4);
  CHECK(ToString(mapped) == "::ffff:1.2.3.4");
  CHECK(ToString(Ip("::FFFF:129.144.52.38")) == "::ffff:129.144.52.38");
  // Same bytes as the IPv4 form, but a different family.
  CHECK(mapped.bytes == Ip("1.2.3.4").bytes);
  CHECK(mapped != Ip("1.2.3.4"));
  CHECK(Ip("::1") == Ip("0:0:0:0:0:0:0:1"));
}

TEST_CASE("ParseIp rejects zone ids and malformed IPv6", "[delivery][ip]") {
  for (const char* bad :
       {"fe80::1%eth0", "[fe80::1%25eth0]", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "12345::", "::g",
        "[::1", "::1]", "[]", "::ffff:010.0.0.1", "::ffff:1.2.3", "::1 ", "[ ::1]",
        "1:2:3:4:5:6:7:8::", "::ffff:1.2.3.4.5"}) {
    INFO(bad);
    CHECK_FALSE(ParseIp(bad).has_value());
  }
}

TEST_CASE("every IPv4 address class", "[delivery][classify]") {
  struct Case {
    const char* ip;
    AddressClass want;
  };
  const Case cases[] = {
      {"8.8.8.8", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.255.255.255", AddressClass::kUnspecified},
      {"1.0.0.0", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"126.255.255.255", AddressClass::kPublic},
      {"128.0.0.0", AddressClass::kPublic},
      {"10.0.0.0", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"11.0.0.0", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},
      {"172.16.0.0", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.0", AddressClass::kPublic},
      {"192.167.255.255", AddressClass::kPublic},
      {"192.168.0.1", AddressClass::kPrivate},
      {"192.168.255.255", AddressClass::kPrivate},
      {"192.169.0.0", AddressClass::kPublic},
      {"100.63.255.255", AddressClass::kPublic},
      {"100.64.0.0", AddressClass::kSharedCgnat},
      {"100.127.255.255", AddressClass::kSharedCgnat},
      {"100.128.0.0", AddressClass::kPublic},
      {"169.254.0.1", AddressClass::kLinkLocal},
      {"169.254.170.2", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kMetadata},
      {"169.254.169.253", AddressClass::kLinkLocal},
      {"100.100.100.200", AddressClass::kMetadata},
      {"100.100.100.201", AddressClass::kSharedCgnat},
      {"168.63.129.16", AddressClass::kMetadata},
      {"169.253.255.255", AddressClass::kPublic},
      {"169.255.0.0", AddressClass::kPublic},
      {"223.255.255.255", AddressClass::kPublic},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.255", AddressClass::kMulticast},
      {"240.0.0.0", AddressClass::kReserved},
      {"255.255.255.254", AddressClass::kReserved},
      {"255.255.255.255", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.1.0", AddressClass::kPublic},
      {"192.0.2.1", AddressClass::kReserved},
      {"192.0.3.0", AddressClass::kPublic},
      {"192.88.99.1", AddressClass::kReserved},
      {"198.17.255.255", AddressClass::kPublic},
      {"198.18.0.0", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"198.20.0.0", AddressClass::kPublic},
      {"198.51.100.7", AddressClass::kReserved},
      {"198.51.101.0", AddressClass::kPublic},
      {"203.0.113.255", AddressClass::kReserved},
      {"203.0.114.0", AddressClass::kPublic},
  };
  for (const Case& c : cases) {
    INFO(c.ip);
    CHECK(AddressClassName(ClassOf(c.ip)) == AddressClassName(c.want));
  }
}

TEST_CASE("every IPv6 address class", "[delivery][classify]") {
  struct Case {
    const char* ip;
    AddressClass want;
  };
  const Case cases[] = {
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"2a00:1450:4001:81c::200e", AddressClass::kPublic},
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"::2", AddressClass::kReserved},        // IPv4-compatible (deprecated)
      {"::8.8.8.8", AddressClass::kReserved},  // IPv4-compatible (deprecated)
      {"fc00::1", AddressClass::kPrivate},
      {"fd12:3456:789a::1", AddressClass::kPrivate},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::kPrivate},
      {"fd00:ec2::254", AddressClass::kMetadata},
      {"fd00:ec2::253", AddressClass::kPrivate},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},
      {"ff02::1", AddressClass::kMulticast},
      {"ff05::1:3", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"2001:db9::1", AddressClass::kPublic},
      {"2001::1", AddressClass::kReserved},  // Teredo
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressClass::kReserved},
      {"2001:2::1", AddressClass::kReserved},
      {"3fff::1", AddressClass::kReserved},
      {"100::1", AddressClass::kReserved},   // discard-only, outside 2000::/3
      {"4000::1", AddressClass::kReserved},  // unassigned, outside 2000::/3
      {"3ffe:ffff::1", AddressClass::kPublic},
      // Embedded IPv4: classified by the IPv4 address.
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:7f00:1", AddressClass::kLoopback},
      {"::ffff:169.254.169.254", AddressClass::kMetadata},
      {"::ffff:10.1.2.3", AddressClass::kPrivate},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      {"64:ff9b::127.0.0.1", AddressClass::kLoopback},
      {"64:ff9b::a9fe:a9fe", AddressClass::kMetadata},
      {"64:ff9b::192.168.1.1", AddressClass::kPrivate},
      {"2002:0808:0808::1", AddressClass::kPublic},
      {"2002:7f00:1::", AddressClass::kLoopback},
      {"2002:7f00:0001:ffff:ffff:ffff:ffff:ffff", AddressClass::kLoopback},
      {"2002:a9fe:a9fe::1", AddressClass::kMetadata},
      {"2002:0a00:0001::1", AddressClass::kPrivate},
      {"2002:e000:1::", AddressClass::kMulticast},
  };
  for (const Case& c : cases) {
    INFO(c.ip);
    CHECK(AddressClassName(ClassOf(c.ip)) == AddressClassName(c.want));
  }
}

TEST_CASE("AddressClassName names every class", "[delivery][classify]") {
  CHECK(AddressClassName(AddressClass::kPublic) == "public");
  CHECK(AddressClassName(AddressClass::kUnspecified) == "unspecified");
  CHECK(AddressClassName(AddressClass::kLoopback) == "loopback");
  CHECK(AddressClassName(AddressClass::kPrivate) == "private");
  CHECK(AddressClassName(AddressClass::kSharedCgnat) == "shared");
  CHECK(AddressClassName(AddressClass::kLinkLocal) == "link-local");
  CHECK(AddressClassName(AddressClass::kMetadata) == "metadata");
  CHECK(AddressClassName(AddressClass::kMulticast) == "multicast");
  CHECK(AddressClassName(AddressClass::kReserved) == "reserved");
}

TEST_CASE("ParseCidrList reads comma and whitespace separated networks", "[delivery][cidr]") {
  CHECK(Cidrs("").empty());
  CHECK(Cidrs(" , \t\n").empty());
  std::vector<Cidr> list = Cidrs("127.0.0.0/8, ::1/128 10.1.2.3,\tfd00::/8");
  REQUIRE(list.size() == 4);
  CHECK(list[0].base == Ip("127.0.0.0"));
  CHECK(list[0].prefix == 8);
  CHECK(list[1].base == Ip("::1"));
  CHECK(list[1].prefix == 128);
  CHECK(list[2].base == Ip("10.1.2.3"));
  CHECK(list[2].prefix == 32);  // a single host
  CHECK(list[3].prefix == 8);
  CHECK(Cidrs("0.0.0.0/0")[0].prefix == 0);
  CHECK(Cidrs("::/0")[0].prefix == 0);
  CHECK(Cidrs("[fd00::]/8")[0].prefix == 8);
}

TEST_CASE("ParseCidrList names the bad entry", "[delivery][cidr]") {
  struct Case {
    const char* text;
    const char* entry;
    const char* why;
  };
  const Case cases[] = {
      {"10.0.0.0/8, 10.0.0.0/33", "\"10.0.0.0/33\"", "0..32"},
      {"::/129", "\"::/129\"", "0..128"},
      {"10.0.0.0/", "\"10.0.0.0/\"", "prefix length"},
      {"10.0.0.0/x", "\"10.0.0.0/x\"", "prefix length"},
      {"10.0.0.0/-1", "\"10.0.0.0/-1\"", "prefix length"},
      {"10.0.0.0/08", "\"10.0.0.0/08\"", "prefix length"},
      {"localhost", "\"localhost\"", "not an IPv4 or IPv6 address"},
      {"127.1/8", "\"127.1/8\"", "not an IPv4 or IPv6 address"},
      {"10.1.2.3/8", "\"10.1.2.3/8\"", "did you mean 10.0.0.0/8?"},
      {"fd00::1/8", "\"fd00::1/8\"", "did you mean fd00::/8?"},
      {"1.2.3.4/32/1", "\"1.2.3.4/32/1\"", "prefix length"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto list = ParseCidrList(c.text);
    REQUIRE_FALSE(list.ok());
    CHECK(list.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(list.status().message()), Catch::Contains(c.entry));
    CHECK_THAT(std::string(list.status().message()), Catch::Contains(c.why));
  }
}

TEST_CASE("Contains matches at the CIDR boundaries", "[delivery][cidr]") {
  Cidr ten = Cidrs("10.0.0.0/8")[0];
  CHECK(Contains(ten, Ip("10.0.0.0")));
  CHECK(Contains(ten, Ip("10.255.255.255")));
  CHECK_FALSE(Contains(ten, Ip("9.255.255.255")));
  CHECK_FALSE(Contains(ten, Ip("11.0.0.0")));

  Cidr odd = Cidrs("172.16.0.0/12")[0];
  CHECK(Contains(odd, Ip("172.31.255.255")));
  CHECK_FALSE(Contains(odd, Ip("172.32.0.0")));
  CHECK_FALSE(Contains(odd, Ip("172.15.255.255")));

  Cidr host = Cidrs("10.1.2.3")[0];
  CHECK(Contains(host, Ip("10.1.2.3")));
  CHECK_FALSE(Contains(host, Ip("10.1.2.4")));

  Cidr all4 = Cidrs("0.0.0.0/0")[0];
  CHECK(Contains(all4, Ip("255.255.255.255")));
  CHECK(Contains(all4, Ip("::ffff:1.2.3.4")));  // v4-mapped IPv6
  CHECK_FALSE(Contains(all4, Ip("::1")));
  CHECK_FALSE(Contains(all4, Ip("2002:7f00:1::")));

  // An IPv4 network also matches the IPv4-mapped IPv6 form.
  Cidr loop = Cidrs("127.0.0.0/8")[0];
  CHECK(Contains(loop, Ip("::ffff:127.0.0.1")));
  CHECK_FALSE(Contains(loop, Ip("::127.0.0.1")));
  CHECK_FALSE(Contains(loop, Ip("::1")));

  Cidr fd = Cidrs("fd00::/8")[0];
  CHECK(Contains(fd, Ip("fd00::1")));
  CHECK(Contains(fd, Ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(Contains(fd, Ip("fc00::1")));
  CHECK_FALSE(Contains(fd, Ip("fe00::")));

  Cidr v6host = Cidrs("::1/128")[0];
  CHECK(Contains(v6host, Ip("::1")));
  CHECK_FALSE(Contains(v6host, Ip("::2")));
  CHECK_FALSE(Contains(v6host, Ip("127.0.0.1")));

  Cidr odd6 = Cidrs("2001:db8:8000::/33")[0];
  CHECK(Contains(odd6, Ip("2001:db8:ffff::1")));
  CHECK_FALSE(Contains(odd6, Ip("2001:db8:7fff::1")));
}

TEST_CASE("CheckDestination allows public addresses and the operator's networks",
          "[delivery][check]") {
  CHECK(CheckDestination(Ip("93.184.216.34"), {}).ok());
  CHECK(CheckDestination(Ip("2606:4700::1"), {}).ok());

  absl::Status s = CheckDestination(Ip("10.0.0.5"), {});
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message() ==
        "destination 10.0.0.5 is a private address; the operator may allow it "
        "(CRM_DELIVERY_ALLOW_NETWORKS)");
  CHECK_THAT(std::string(CheckDestination(Ip("169.254.169.254"), {}).message()),
             Catch::Contains("169.254.169.254 is a metadata address"));
  CHECK_THAT(std::string(CheckDestination(Ip("0.0.0.0"), {}).message()),
             Catch::Contains("0.0.0.0 is an unspecified address"));
  CHECK_THAT(std::string(CheckDestination(Ip("::ffff:127.0.0.1"), {}).message()),
             Catch::Contains("::ffff:127.0.0.1 is a loopback address"));

  std::vector<Cidr> allow = Cidrs("10.0.0.0/24, fd00::/8");
  CHECK(CheckDestination(Ip("10.0.0.5"), allow).ok());
  CHECK(CheckDestination(Ip("::ffff:10.0.0.5"), allow).ok());
  CHECK(CheckDestination(Ip("fd00::5"), allow).ok());
  CHECK(CheckDestination(Ip("10.0.1.5"), allow).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(CheckDestination(Ip("127.0.0.1"), allow).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(CheckDestination(Ip("2002:7f00:1::"), allow).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckDestination(Ip("64:ff9b::a9fe:a9fe"), allow).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("ParseWebhookUrl splits a valid URL", "[delivery][url]") {
  auto u = ParseWebhookUrl("https://hooks.example.com/crm/events?x=1&y=%2F");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "hooks.example.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/crm/events?x=1&y=%2F");
  CHECK_FALSE(u->host_is_ip);

  u = ParseWebhookUrl("HTTP://Hooks.Example.COM:8080");
  REQUIRE(u.ok());
  CHECK(u->scheme == "http");
  CHECK(u->host == "hooks.example.com");
  CHECK(u->port == 8080);
  CHECK(u->target == "/");

  u = ParseWebhookUrl("hTTpS://a.b?q=1");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->target == "/?q=1");

  u = ParseWebhookUrl("http://x.example/a@b:c");  // '@' in the path is not userinfo
  REQUIRE(u.ok());
  CHECK(u->host == "x.example");
  CHECK(u->target == "/a@b:c");

  u = ParseWebhookUrl("http://localhost:1/");
  REQUIRE(u.ok());
  CHECK(u->host == "localhost");
  CHECK(u->port == 1);

  u = ParseWebhookUrl("http://h.example:65535/");
  REQUIRE(u.ok());
  CHECK(u->port == 65535);
}

TEST_CASE("ParseWebhookUrl reads IP literals", "[delivery][url]") {
  auto u = ParseWebhookUrl("http://127.0.0.1:8080/x");
  REQUIRE(u.ok());
  CHECK(u->host_is_ip);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 8080);

  u = ParseWebhookUrl("https://[2001:DB8::1]/hook");
  REQUIRE(u.ok());
  CHECK(u->host_is_ip);
  CHECK(u->host == "2001:db8::1");
  CHECK(u->port == 443);
  CHECK(u->target == "/hook");

  u = ParseWebhookUrl("http://[::ffff:127.0.0.1]:81");
  REQUIRE(u.ok());
  CHECK(u->host == "::ffff:127.0.0.1");
  CHECK(u->port == 81);
  CHECK(Classify(*ParseIp(u->host)) == AddressClass::kLoopback);
}

TEST_CASE("ParseWebhookUrl refuses bad URLs with an actionable message", "[delivery][url]") {
  CHECK(UrlError("") == "url: required");
  CHECK(UrlError("ftp://example.com/") == "url: scheme must be http or https");
  CHECK(UrlError("javascript://example.com/") == "url: scheme must be http or https");
  CHECK(UrlError("file:///etc/passwd") == "url: scheme must be http or https");
  CHECK_THAT(UrlError("example.com/hook"), Catch::Contains("http:// or https://"));
  CHECK_THAT(UrlError("https:/example.com"), Catch::Contains("http:// or https://"));
  CHECK(UrlError("https://") == "url: host required");
  CHECK(UrlError("https:///path") == "url: host required");
  CHECK(UrlError("https://:443/") == "url: host required");

  CHECK_THAT(UrlError("https://user:pw@example.com/"), Catch::Contains("user info"));
  CHECK_THAT(UrlError("https://user:pw@example.com/"), Catch::Contains("secret"));
  CHECK_THAT(UrlError("https://example.com@127.0.0.1/"), Catch::Contains("user info"));
  CHECK_THAT(UrlError("https://@example.com/"), Catch::Contains("user info"));

  CHECK_THAT(UrlError("https://example.com/#frag"), Catch::Contains("fragment"));
  CHECK_THAT(UrlError("https://example.com#"), Catch::Contains("fragment"));

  CHECK_THAT(UrlError("https://example.com:0/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://example.com:65536/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://example.com:/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://example.com:-1/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://example.com:443x/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://example.com:100000/"), Catch::Contains("port must be"));
  CHECK_THAT(UrlError("https://[::1]:/"), Catch::Contains("port must be"));

  const std::string numeric = "url: host looks like a numeric address in a non-standard form";
  CHECK(UrlError("http://0x7f.0.0.1/") == numeric);
  CHECK(UrlError("http://0x7f000001/") == numeric);
  CHECK(UrlError("http://2130706433/") == numeric);
  CHECK(UrlError("http://127.1/") == numeric);
  CHECK(UrlError("http://0177.0.0.1/") == numeric);
  CHECK(UrlError("http://010.0.0.1/") == numeric);
  CHECK(UrlError("http://127.0.0.1./") == numeric);
  CHECK(UrlError("http://1.2.3.4.5/") == numeric);
  CHECK(UrlError("http://foo.0x10/") == numeric);

  CHECK_THAT(UrlError("http://::1/"), Catch::Contains("must be in brackets"));
  CHECK_THAT(UrlError("http://[::1/"), Catch::Contains("without ']'"));
  CHECK_THAT(UrlError("http://[127.0.0.1]/"), Catch::Contains("IPv6"));
  CHECK_THAT(UrlError("http://[example.com]/"), Catch::Contains("IPv6"));
  CHECK_THAT(UrlError("http://[fe80::1%25eth0]/"), Catch::Contains("zone"));
  CHECK_THAT(UrlError("http://[::1]x/"), Catch::Contains("after ']'"));

  CHECK_THAT(UrlError("http://exa mple.com/"), Catch::Contains("whitespace"));
  CHECK_THAT(UrlError("http://example.com/a b"), Catch::Contains("whitespace"));
  CHECK_THAT(UrlError("http://example.com/\r\nHost: x"), Catch::Contains("whitespace"));
  CHECK_THAT(UrlError(std::string("http://example.com/\x01")), Catch::Contains("control"));
  CHECK_THAT(UrlError(std::string("http://example.com/a\0b", 22)), Catch::Contains("control"));
  CHECK_THAT(UrlError("http://bücher.example/"), Catch::Contains("punycode"));
  CHECK_THAT(UrlError("http://ex_ample.com/"), Catch::Contains("letters, digits"));
  CHECK_THAT(UrlError("http://ex%61mple.com/"), Catch::Contains("letters, digits"));
  CHECK_THAT(UrlError("http://example.com\\@evil.com/"), Catch::Contains("user info"));
  CHECK_THAT(UrlError("http://example.com\\evil/"), Catch::Contains("letters, digits"));
  CHECK_THAT(UrlError("http://a..b/"), Catch::Contains("empty label"));
  CHECK_THAT(UrlError("http://.a.b/"), Catch::Contains("empty label"));
  CHECK_THAT(UrlError("http://a.b./"), Catch::Contains("empty label"));
  CHECK_THAT(UrlError("http://-a.b/"), Catch::Contains("'-'"));
  CHECK_THAT(UrlError("http://" + std::string(64, 'a') + ".com/"), Catch::Contains("63"));
  CHECK_THAT(UrlError("http://example.com/a|b"), Catch::Contains("'|'"));
  CHECK_THAT(UrlError("http://example.com/a\\b"), Catch::Contains("percent-encoded"));
  CHECK_THAT(UrlError("http://example.com/%zz"), Catch::Contains("%XX"));
  CHECK_THAT(UrlError("http://example.com/%4"), Catch::Contains("%XX"));
}

TEST_CASE("ParseWebhookUrl enforces the 2048 character limit", "[delivery][url]") {
  std::string prefix = "https://example.com/";
  std::string ok = prefix + std::string(2048 - prefix.size(), 'a');
  CHECK(ParseWebhookUrl(ok).ok());
  CHECK_THAT(UrlError(ok + "a"), Catch::Contains("2048"));
}

}  // namespace
