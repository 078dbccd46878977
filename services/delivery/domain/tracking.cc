#include "services/delivery/domain/tracking.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::delivery::domain {
namespace {

// A character reference's text for the few a URL attribute holds (&amp;
// above all); others are kept as they are.
std::string DecodeReferences(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size();) {
    if (v[i] != '&') {
      out.push_back(v[i++]);
      continue;
    }
    const size_t semi = v.find(';', i);
    if (semi == absl::string_view::npos || semi - i > 10) {
      out.push_back(v[i++]);
      continue;
    }
    const absl::string_view name = v.substr(i + 1, semi - i - 1);
    uint32_t code = 0;
    bool known = true;
    if (name == "amp") {
      code = '&';
    } else if (name == "quot") {
      code = '"';
    } else if (name == "apos") {
      code = '\'';
    } else if (name == "lt") {
      code = '<';
    } else if (name == "gt") {
      code = '>';
    } else if (name.size() > 1 && name[0] == '#') {
      absl::string_view digits = name.substr(1);
      known = (digits[0] == 'x' || digits[0] == 'X') ? absl::SimpleHexAtoi(digits.substr(1), &code)
                                                     : absl::SimpleAtoi(digits, &code);
      known = known && code >= 0x20 && code < 0x7f;  // URLs are ASCII
    } else {
      known = false;
    }
    if (!known) {
      out.push_back(v[i++]);
      continue;
    }
    out.push_back(static_cast<char>(code));
    i = semi + 1;
  }
  return out;
}

bool IsHttpUrl(absl::string_view url) {
  return absl::StartsWithIgnoreCase(url, "http://") || absl::StartsWithIgnoreCase(url, "https://");
}

// The tag name of the tag that starts at `lt` ('<'), lower-cased.
std::string TagName(absl::string_view html, size_t lt) {
  size_t i = lt + 1;
  size_t j = i;
  while (j < html.size() && std::isalnum(static_cast<unsigned char>(html[j]))) ++j;
  return absl::AsciiStrToLower(html.substr(i, j - i));
}

}  // namespace

TrackedHtml TrackLinks(absl::string_view html, const std::function<std::string(int)>& click_url,
                       absl::string_view skip_prefix, int max_links) {
  TrackedHtml out;
  out.html.reserve(html.size() + 256);
  size_t pos = 0;
  while (pos < html.size()) {
    const size_t lt = html.find('<', pos);
    if (lt == absl::string_view::npos) break;
    const size_t gt = html.find('>', lt);
    if (gt == absl::string_view::npos) break;
    const std::string tag = TagName(html, lt);
    if (tag != "a" && tag != "area") {
      absl::StrAppend(&out.html, html.substr(pos, gt + 1 - pos));
      pos = gt + 1;
      continue;
    }
    absl::StrAppend(&out.html, html.substr(pos, lt - pos));
    // The attributes of this tag: find href=, quoted.
    absl::string_view t = html.substr(lt, gt + 1 - lt);
    const std::string lower = absl::AsciiStrToLower(t);
    size_t h = 0;
    bool done = false;
    while (!done && (h = lower.find("href", h)) != std::string::npos) {
      // An attribute name: preceded by whitespace.
      if (h == 0 || !absl::ascii_isspace(static_cast<unsigned char>(lower[h - 1]))) {
        h += 4;
        continue;
      }
      size_t k = h + 4;
      while (k < t.size() && absl::ascii_isspace(static_cast<unsigned char>(t[k]))) ++k;
      if (k >= t.size() || t[k] != '=') {
        h += 4;
        continue;
      }
      ++k;
      while (k < t.size() && absl::ascii_isspace(static_cast<unsigned char>(t[k]))) ++k;
      if (k >= t.size() || (t[k] != '"' && t[k] != '\'')) break;  // unquoted: left as is
      const char quote = t[k];
      const size_t end = t.find(quote, k + 1);
      if (end == absl::string_view::npos) break;
      const std::string url =
          DecodeReferences(absl::StripAsciiWhitespace(t.substr(k + 1, end - k - 1)));
      done = true;
      if (!IsHttpUrl(url) || (!skip_prefix.empty() && absl::StartsWith(url, skip_prefix))) break;
      auto known = std::find(out.links.begin(), out.links.end(), url);
      int index = static_cast<int>(known - out.links.begin());
      if (known == out.links.end()) {
        if (static_cast<int>(out.links.size()) >= max_links) break;
        out.links.push_back(url);
      }
      std::string rewritten(t.substr(0, k + 1));
      absl::StrAppend(&rewritten, click_url(index), t.substr(end));
      absl::StrAppend(&out.html, rewritten);
      pos = gt + 1;
      break;
    }
    if (pos != gt + 1) {
      absl::StrAppend(&out.html, t);
      pos = gt + 1;
    }
  }
  absl::StrAppend(&out.html, html.substr(std::min(pos, html.size())));
  return out;
}

std::string AddOpenPixel(absl::string_view html, absl::string_view pixel_url) {
  const std::string img = absl::StrCat("<img src=\"", pixel_url,
                                       "\" width=\"1\" height=\"1\" alt=\"\" "
                                       "style=\"display:block;border:0;width:1px;height:1px\">");
  const std::string lower = absl::AsciiStrToLower(html);
  const size_t body = lower.rfind("</body");
  if (body == std::string::npos) return absl::StrCat(html, img);
  return absl::StrCat(html.substr(0, body), img, html.substr(body));
}

std::vector<std::string> RecordEngagement(Message& m, Engagement e, absl::Time now) {
  std::vector<std::string> events;
  auto first_open = [&] {
    if (!m.first_open_time) {
      m.first_open_time = now;
      events.push_back("message.opened");
    }
  };
  switch (e) {
    case Engagement::kOpen:
      m.open_count += 1;
      m.last_open_time = now;
      first_open();
      break;
    case Engagement::kClick:
      m.click_count += 1;
      m.last_click_time = now;
      first_open();
      if (!m.first_click_time) {
        m.first_click_time = now;
        events.push_back("message.clicked");
      }
      break;
    case Engagement::kUnsubscribe:
      if (!m.unsubscribe_time) {
        m.unsubscribe_time = now;
        events.push_back("message.unsubscribed");
      }
      break;
  }
  return events;
}

}  // namespace crm::delivery::domain
