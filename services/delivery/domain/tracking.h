#pragma once
// Tracking in sent email (docs/delivery.md, "Tracking"), pure: the links of
// the HTML part rewritten to click links of the gateway, an open pixel, and
// what an open, a click or an unsubscribe does to the message's engagement.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/delivery/domain/message.h"

namespace crm::delivery::domain {

struct TrackedHtml {
  std::string html;
  std::vector<std::string> links;  // the original URLs; index = the click link's
};

// Every href="…" / href='…' of an <a> or <area> whose URL is http(s) becomes
// click_url(i), i being the URL's index in `links` (one index per distinct
// URL, in order of appearance; at most `max_links`, later ones stay as they
// are). The stored URL is the attribute's value with its character
// references decoded (&amp; → &), as a browser would follow it. URLs that
// start with `skip_prefix` (the tracking links themselves, e.g. an
// unsubscribe link) and non-http(s) ones (mailto:, tel:, #) stay.
TrackedHtml TrackLinks(absl::string_view html, const std::function<std::string(int)>& click_url,
                       absl::string_view skip_prefix, int max_links);

// The HTML with a 1×1 transparent image of `pixel_url` (an URL of ours,
// HTML-safe as it is) before the last </body>, or at the end without one.
std::string AddOpenPixel(absl::string_view html, absl::string_view pixel_url);

// What a recipient did with a sent message.
enum class Engagement { kOpen, kClick, kUnsubscribe };

// The message after one more open, click or unsubscribe at `now`, and the
// events that makes news of, once each per message: "message.opened" (the
// first open; a click before any open counts as one, images being often
// blocked), "message.clicked" (the first click), "message.unsubscribed".
std::vector<std::string> RecordEngagement(Message& m, Engagement e, absl::Time now);

}  // namespace crm::delivery::domain
