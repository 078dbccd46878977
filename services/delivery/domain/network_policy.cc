#include "services/delivery/domain/network_policy.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace crm::delivery::domain {
namespace {

constexpr size_t kMaxUrlLength = 2048;

IpAddress FromV4(uint32_t v) {
  IpAddress ip;
  ip.v4 = true;
  ip.bytes[10] = 0xff;
  ip.bytes[11] = 0xff;
  ip.bytes[12] = static_cast<uint8_t>(v >> 24);
  ip.bytes[13] = static_cast<uint8_t>(v >> 16);
  ip.bytes[14] = static_cast<uint8_t>(v >> 8);
  ip.bytes[15] = static_cast<uint8_t>(v);
  return ip;
}

uint32_t V4At(const IpAddress& ip, int offset) {
  return (uint32_t{ip.bytes[offset]} << 24) | (uint32_t{ip.bytes[offset + 1]} << 16) |
         (uint32_t{ip.bytes[offset + 2]} << 8) | uint32_t{ip.bytes[offset + 3]};
}

// Whether the first `bits` bits of a and b agree.
bool PrefixEquals(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int full = bits / 8;
  for (int i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// Whether any bit after the first `bits` is set.
bool HasBitsAfter(const std::array<uint8_t, 16>& a, int bits) {
  for (int i = 0; i < 128; ++i) {
    if (i >= bits && (a[i / 8] & (0x80 >> (i % 8))) != 0) return true;
  }
  return false;
}

bool IsMapped(const IpAddress& ip) {
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
}

// Strict dotted quad: four decimal parts 0..255 without leading zeros.
std::optional<uint32_t> ParseDottedQuad(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t v = 0;
  for (absl::string_view p : parts) {
    if (p.empty() || p.size() > 3) return std::nullopt;
    if (p.size() > 1 && p[0] == '0') return std::nullopt;
    int part = 0;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      part = part * 10 + (c - '0');
    }
    if (part > 255) return std::nullopt;
    v = (v << 8) | static_cast<uint32_t>(part);
  }
  return v;
}

bool InV4(uint32_t v, uint32_t net, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (v & mask) == (net & mask);
}

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

AddressClass ClassifyV4(uint32_t v) {
  // Metadata endpoints first: they sit inside the link-local / shared ranges.
  if (v == V4(169, 254, 169, 254)) return AddressClass::kMetadata;  // AWS, GCP, Azure, ...
  if (v == V4(100, 100, 100, 200)) return AddressClass::kMetadata;  // Alibaba Cloud
  if (v == V4(168, 63, 129, 16)) return AddressClass::kMetadata;    // Azure WireServer
  if (InV4(v, V4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (InV4(v, V4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (InV4(v, V4(10, 0, 0, 0), 8)) return AddressClass::kPrivate;
  if (InV4(v, V4(172, 16, 0, 0), 12)) return AddressClass::kPrivate;
  if (InV4(v, V4(192, 168, 0, 0), 16)) return AddressClass::kPrivate;
  if (InV4(v, V4(100, 64, 0, 0), 10)) return AddressClass::kSharedCgnat;
  if (InV4(v, V4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (InV4(v, V4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (InV4(v, V4(240, 0, 0, 0), 4)) return AddressClass::kReserved;      // incl. 255.255.255.255
  if (InV4(v, V4(192, 0, 0, 0), 24)) return AddressClass::kReserved;     // IETF protocol
  if (InV4(v, V4(192, 0, 2, 0), 24)) return AddressClass::kReserved;     // TEST-NET-1
  if (InV4(v, V4(192, 88, 99, 0), 24)) return AddressClass::kReserved;   // 6to4 relay anycast
  if (InV4(v, V4(198, 18, 0, 0), 15)) return AddressClass::kReserved;    // benchmarking
  if (InV4(v, V4(198, 51, 100, 0), 24)) return AddressClass::kReserved;  // TEST-NET-2
  if (InV4(v, V4(203, 0, 113, 0), 24)) return AddressClass::kReserved;   // TEST-NET-3
  return AddressClass::kPublic;
}

bool InV6(const IpAddress& ip, const char* net, int prefix) {
  IpAddress n;
  inet_pton(AF_INET6, net, n.bytes.data());
  return PrefixEquals(ip.bytes, n.bytes, prefix);
}

bool IsHex(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }
bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The WHATWG URL "ends in a number" test: the last label (ignoring one
// trailing dot) is decimal digits or 0x-prefixed hex, so resolvers and URL
// parsers may read the whole host as an IPv4 address in some inet_aton form.
bool EndsInNumber(absl::string_view host) {
  std::vector<absl::string_view> labels = absl::StrSplit(host, '.');
  if (labels.size() > 1 && labels.back().empty()) labels.pop_back();
  absl::string_view last = labels.back();
  if (IsDigits(last)) return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    for (char c : last.substr(2)) {
      if (!IsHex(c)) return false;
    }
    return true;
  }
  return false;
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// RFC 3986 characters allowed literally in a path or query ('%' is checked
// separately).
bool IsTargetChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("-._~!$&'()*+,;=:@/?", c) != nullptr && c != '\0';
}

absl::Status UrlError(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("url: ", message));
}

absl::StatusOr<int> ParsePort(absl::string_view text) {
  if (text.empty() || text.size() > 5 || !IsDigits(text)) {
    return UrlError("port must be a number 1..65535");
  }
  int port = 0;
  for (char c : text) port = port * 10 + (c - '0');
  if (port < 1 || port > 65535) return UrlError("port must be a number 1..65535");
  return port;
}

absl::Status CheckHostName(absl::string_view host) {
  if (host.size() > 253) return UrlError("host name is longer than 253 characters");
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty())
      return UrlError("host name has an empty label (\"..\" or a leading/trailing dot)");
    if (label.size() > 63) return UrlError("host name label is longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') {
      return UrlError("host name label must not start or end with '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTarget(absl::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size() || !IsHex(target[i + 1]) || !IsHex(target[i + 2])) {
        return UrlError("'%' in the path or query must start a %XX escape");
      }
      continue;
    }
    if (!IsTargetChar(c)) {
      return UrlError(absl::StrCat("character '", absl::string_view(&c, 1),
                                   "' in the path or query must be percent-encoded"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool operator==(const IpAddress& a, const IpAddress& b) {
  return a.v4 == b.v4 && a.bytes == b.bytes;
}
bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }

std::string ToString(const IpAddress& ip) {
  if (ip.v4) {
    return absl::StrCat(ip.bytes[12], ".", ip.bytes[13], ".", ip.bytes[14], ".", ip.bytes[15]);
  }
  if (IsMapped(ip)) {
    return absl::StrCat("::ffff:", ip.bytes[12], ".", ip.bytes[13], ".", ip.bytes[14], ".",
                        ip.bytes[15]);
  }
  uint16_t groups[8];
  for (int i = 0; i < 8; ++i)
    groups[i] = static_cast<uint16_t>(ip.bytes[2 * i] << 8 | ip.bytes[2 * i + 1]);
  // The longest run of two or more zero groups (the first one on a tie).
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    absl::StrAppend(&out, absl::Hex(groups[i]));
  }
  return out;
}

std::optional<IpAddress> ParseIp(absl::string_view text) {
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    bracketed = true;
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  if (text.find(':') == absl::string_view::npos) {
    if (bracketed) return std::nullopt;
    std::optional<uint32_t> v = ParseDottedQuad(text);
    if (!v) return std::nullopt;
    return FromV4(*v);
  }
  for (char c : text) {
    // inet_pton is strict, but keep the accepted alphabet explicit.
    if (!IsHex(c) && c != ':' && c != '.') return std::nullopt;
  }
  IpAddress ip;
  std::string copy(text);
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  // The dotted tail of a mixed form must be a strict dotted quad as well.
  size_t last_colon = text.rfind(':');
  absl::string_view tail = text.substr(last_colon + 1);
  if (tail.find('.') != absl::string_view::npos && !ParseDottedQuad(tail)) return std::nullopt;
  return ip;
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text) {
  std::vector<Cidr> out;
  for (absl::string_view entry : absl::StrSplit(text, absl::ByAnyChar(", \t\r\n"))) {
    if (entry.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("network \"", entry, "\": ", why));
    };
    absl::string_view addr = entry;
    absl::string_view prefix_text;
    bool has_prefix = false;
    size_t slash = entry.find('/');
    if (slash != absl::string_view::npos) {
      addr = entry.substr(0, slash);
      prefix_text = entry.substr(slash + 1);
      has_prefix = true;
    }
    std::optional<IpAddress> ip = ParseIp(addr);
    if (!ip) return bad("not an IPv4 or IPv6 address (expected e.g. 10.0.0.0/8 or fd00::/8)");
    int max = ip->v4 ? 32 : 128;
    int prefix = max;
    if (has_prefix) {
      if (!IsDigits(prefix_text) || prefix_text.size() > 3 ||
          (prefix_text.size() > 1 && prefix_text[0] == '0')) {
        return bad(absl::StrCat("prefix length must be a number 0..", max));
      }
      prefix = 0;
      for (char c : prefix_text) prefix = prefix * 10 + (c - '0');
      if (prefix > max) return bad(absl::StrCat("prefix length must be a number 0..", max));
    }
    int bits = ip->v4 ? 96 + prefix : prefix;
    if (HasBitsAfter(ip->bytes, bits)) {
      IpAddress network = *ip;
      for (int i = bits; i < 128; ++i) network.bytes[i / 8] &= ~(0x80 >> (i % 8));
      return bad(absl::StrCat("address has bits set beyond the /", prefix, " prefix (did you mean ",
                              ToString(network), "/", prefix, "?)"));
    }
    out.push_back(Cidr{*ip, prefix});
  }
  return out;
}

bool Contains(const Cidr& cidr, const IpAddress& ip) {
  int bits = cidr.base.v4 ? 96 + cidr.prefix : cidr.prefix;
  if (bits < 0 || bits > 128) return false;
  return PrefixEquals(cidr.base.bytes, ip.bytes, bits);
}

AddressClass Classify(const IpAddress& ip) {
  if (ip.v4 || IsMapped(ip)) return ClassifyV4(V4At(ip, 12));
  if (InV6(ip, "::", 128)) return AddressClass::kUnspecified;
  if (InV6(ip, "::1", 128)) return AddressClass::kLoopback;
  if (InV6(ip, "::", 96)) return AddressClass::kReserved;              // deprecated IPv4-compatible
  if (InV6(ip, "64:ff9b::", 96)) return ClassifyV4(V4At(ip, 12));      // NAT64
  if (InV6(ip, "2002::", 16)) return ClassifyV4(V4At(ip, 2));          // 6to4
  if (InV6(ip, "fd00:ec2::254", 128)) return AddressClass::kMetadata;  // AWS IPv6 IMDS
  if (InV6(ip, "fc00::", 7)) return AddressClass::kPrivate;
  if (InV6(ip, "fe80::", 10)) return AddressClass::kLinkLocal;
  if (InV6(ip, "fec0::", 10)) return AddressClass::kPrivate;  // deprecated site-local
  if (InV6(ip, "ff00::", 8)) return AddressClass::kMulticast;
  if (InV6(ip, "2001::", 32)) return AddressClass::kReserved;      // Teredo
  if (InV6(ip, "2001:2::", 48)) return AddressClass::kReserved;    // benchmarking
  if (InV6(ip, "2001:10::", 28)) return AddressClass::kReserved;   // ORCHID
  if (InV6(ip, "2001:20::", 28)) return AddressClass::kReserved;   // ORCHIDv2
  if (InV6(ip, "2001:db8::", 32)) return AddressClass::kReserved;  // documentation
  if (InV6(ip, "3fff::", 20)) return AddressClass::kReserved;      // documentation (RFC 9637)
  if (!InV6(ip, "2000::", 3)) return AddressClass::kReserved;      // not global unicast space
  return AddressClass::kPublic;
}

absl::string_view AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kSharedCgnat:
      return "shared";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMetadata:
      return "metadata";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

absl::Status CheckDestination(const IpAddress& ip, const std::vector<Cidr>& allow) {
  AddressClass c = Classify(ip);
  if (c == AddressClass::kPublic) return absl::OkStatus();
  for (const Cidr& cidr : allow) {
    if (Contains(cidr, ip)) return absl::OkStatus();
  }
  absl::string_view name = AddressClassName(c);
  absl::string_view article = c == AddressClass::kUnspecified ? "an" : "a";
  return absl::FailedPreconditionError(
      absl::StrCat("destination ", ToString(ip), " is ", article, " ", name,
                   " address; the operator may allow it (CRM_DELIVERY_ALLOW_NETWORKS)"));
}

absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url) {
  if (url.empty()) return UrlError("required");
  if (url.size() > kMaxUrlLength) {
    return UrlError(absl::StrCat("longer than ", kMaxUrlLength, " characters"));
  }
  for (char ch : url) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      return UrlError("whitespace is not allowed (percent-encode it, e.g. %20)");
    }
    if (c < 0x20 || c == 0x7f) return UrlError("control characters are not allowed");
    if (c >= 0x80) {
      return UrlError("non-ASCII characters must be percent-encoded (host names as punycode)");
    }
  }
  if (url.find('#') != absl::string_view::npos) {
    return UrlError("fragments (#...) are not allowed");
  }
  size_t sep = url.find("://");
  if (sep == absl::string_view::npos) {
    return UrlError("must be an absolute URL starting with http:// or https://");
  }
  WebhookUrl out;
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return UrlError("scheme must be http or https");
  }
  absl::string_view rest = url.substr(sep + 3);
  size_t auth_end = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, auth_end);
  absl::string_view target =
      auth_end == absl::string_view::npos ? absl::string_view() : rest.substr(auth_end);
  if (authority.find('@') != absl::string_view::npos) {
    return UrlError(
        "user info (user:password@) is not allowed; credentials belong in the endpoint's "
        "secret");
  }
  if (authority.empty()) return UrlError("host required");

  absl::string_view host;
  absl::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return UrlError("'[' without ']' in the host");
    absl::string_view inner = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError("unexpected characters after ']' in the host");
      port_text = after.substr(1);
      has_port = true;
    }
    if (inner.find('%') != absl::string_view::npos) {
      return UrlError("IPv6 zone ids (%...) are not allowed");
    }
    std::optional<IpAddress> ip;
    if (inner.find(':') != absl::string_view::npos) ip = ParseIp(inner);
    if (!ip) return UrlError("brackets in the host must enclose an IPv6 address");
    out.host = ToString(*ip);
    out.host_is_ip = true;
  } else {
    size_t colon = authority.find(':');
    if (colon != absl::string_view::npos &&
        authority.find(':', colon + 1) != absl::string_view::npos) {
      return UrlError(
          "an IPv6 address in the host must be in brackets, e.g. http://[2001:db8::1]/");
    }
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return UrlError("host required");
    for (char c : host) {
      if (!IsHostChar(c)) {
        return UrlError(
            "host may contain only letters, digits, '-' and '.' (internationalized names as "
            "punycode)");
      }
    }
    std::string lower = absl::AsciiStrToLower(host);
    if (std::optional<IpAddress> ip = ParseIp(lower)) {
      out.host = ToString(*ip);
      out.host_is_ip = true;
    } else if (EndsInNumber(lower)) {
      return UrlError("host looks like a numeric address in a non-standard form");
    } else {
      absl::Status s = CheckHostName(lower);
      if (!s.ok()) return s;
      out.host = std::move(lower);
    }
  }
  if (has_port) {
    absl::StatusOr<int> port = ParsePort(port_text);
    if (!port.ok()) return port.status();
    out.port = *port;
  } else {
    out.port = out.scheme == "https" ? 443 : 80;
  }
  absl::Status s = CheckTarget(target);
  if (!s.ok()) return s;
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = absl::StrCat("/", target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

}  // namespace crm::delivery::domain
