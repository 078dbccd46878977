#pragma once
// The SSRF guard for outbound webhooks (pure): parsing IP addresses, CIDR
// allow-lists and webhook URLs, and deciding whether a resolved destination
// address may be contacted.
//
// The caller parses the endpoint URL with ParseWebhookUrl, resolves the host
// (or takes the literal when host_is_ip), runs CheckDestination on every
// address it is about to connect to (after resolution, so DNS rebinding
// cannot smuggle in an internal address), and connects to that exact address.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::delivery::domain {

// An IPv4 or IPv6 address. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) with
// `v4` set; an IPv6 address written as "::ffff:a.b.c.d" has the same bytes
// but `v4` unset (equality compares both fields).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};
bool operator==(const IpAddress& a, const IpAddress& b);
bool operator!=(const IpAddress& a, const IpAddress& b);

// "a.b.c.d" for IPv4; RFC 5952 text for IPv6 (lower-case, longest run of two
// or more zero groups as "::", "::ffff:a.b.c.d" for IPv4-mapped); no brackets.
std::string ToString(const IpAddress& ip);

// A dotted quad (exactly four decimal parts 0..255, no leading zeros), or
// IPv6 in any RFC 4291 text form, optionally in brackets ("[::1]"). Zone ids
// ("fe80::1%eth0"), whitespace and the inet_aton forms ("127.1",
// "0x7f.0.0.1", "2130706433", "010.0.0.1") are rejected.
std::optional<IpAddress> ParseIp(absl::string_view text);

// A network: the addresses whose first `prefix` bits equal base's. For an
// IPv4 base, prefix is 0..32 (IPv4 bits); for IPv6 0..128.
struct Cidr {
  IpAddress base;
  int prefix = 0;
};

// Comma- and/or whitespace-separated networks, e.g. "127.0.0.0/8, ::1/128
// 10.1.2.3" (an address without a prefix is a single host). "" is the empty
// list. A base with bits set beyond the prefix ("10.1.2.3/8") is refused
// (the intended network is ambiguous); the error names the bad entry.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text);

// Whether `ip` is in `cidr`. An IPv4 network also contains the IPv4-mapped
// IPv6 form of its addresses; an IPv6 network compares the 128-bit form (so
// "::ffff:0:0/96" contains every IPv4 address).
bool Contains(const Cidr& cidr, const IpAddress& ip);

enum class AddressClass {
  kPublic,
  kUnspecified,  // 0.0.0.0/8, ::
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // RFC 1918, fc00::/7, fec0::/10 (deprecated site-local)
  kSharedCgnat,  // 100.64.0.0/10
  kLinkLocal,    // 169.254.0.0/16, fe80::/10
  kMetadata,     // cloud instance metadata endpoints
  kMulticast,    // 224.0.0.0/4, ff00::/8
  kReserved,     // documentation, benchmarking, future use, broadcast, ...
};

// The class of an address. IPv4 embedded in IPv6 (IPv4-mapped ::ffff:0:0/96,
// NAT64 64:ff9b::/96, 6to4 2002::/16) is classified by the embedded IPv4
// address. IPv6 outside 2000::/3 that is not listed above is kReserved.
AddressClass Classify(const IpAddress& ip);

// "public", "unspecified", "loopback", "private", "shared", "link-local",
// "metadata", "multicast", "reserved".
absl::string_view AddressClassName(AddressClass c);

// OK when `ip` is public or contained in one of `allow` (the operator's
// CRM_DELIVERY_ALLOW_NETWORKS); FailedPrecondition otherwise.
absl::Status CheckDestination(const IpAddress& ip, const std::vector<Cidr>& allow);

struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case name, or an IP in ToString form (IPv6 without brackets)
  int port = 0;        // explicit, else 80 / 443
  std::string target;  // path and query, "/" when the URL has none
  bool host_is_ip = false;
};

// Parses an absolute http(s) URL for a webhook endpoint. Refused: other
// schemes, userinfo ("user:pw@": credentials belong in the endpoint's
// secret), fragments, more than 2048 characters, whitespace, control or
// non-ASCII characters (host names must come as punycode), ports outside
// 1..65535, host names of other than letters, digits, '-' and '.', IPv6
// without brackets, and hosts that look numeric in a form ParseIp does not
// accept ("127.1", "0x7f.0.0.1", "2130706433"). Path and query must be
// RFC 3986 characters (others percent-encoded).
absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url);

}  // namespace crm::delivery::domain
