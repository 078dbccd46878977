#include "services/delivery/domain/tracking.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace {

using crm::delivery::domain::AddOpenPixel;
using crm::delivery::domain::Engagement;
using crm::delivery::domain::Message;
using crm::delivery::domain::RecordEngagement;
using crm::delivery::domain::TrackLinks;

std::string Click(int i) { return absl::StrCat("https://t.example/c/", i); }

TEST_CASE("Links of the HTML part become click links, one index per distinct URL",
          "[delivery][tracking]") {
  auto t = TrackLinks(
      "<p><a href=\"https://shop.example/a?x=1&amp;y=2\">A</a> <A class=b "
      "HREF='http://shop.example/b'>B</A>"
      " <a href=\"https://shop.example/a?x=1&amp;y=2\">A again</a></p>",
      Click, "", 100);
  CHECK(t.html ==
        "<p><a href=\"https://t.example/c/0\">A</a> <A class=b HREF='https://t.example/c/1'>B</A>"
        " <a href=\"https://t.example/c/0\">A again</a></p>");
  REQUIRE(t.links.size() == 2);
  CHECK(t.links[0] == "https://shop.example/a?x=1&y=2");  // as a browser follows it
  CHECK(t.links[1] == "http://shop.example/b");
}

TEST_CASE("Links that are not http(s), ours, unquoted or over the limit stay",
          "[delivery][tracking]") {
  const std::string html =
      "<a href=\"mailto:x@example.com\">m</a><a href='#top'>t</a><a href=tel:123>p</a>"
      "<a href=\"https://crm.example/t/u/tok\">unsubscribe</a><link "
      "href=\"https://cdn.example/s.css\">"
      "<a data-href=\"https://x.example\" href=\"https://y.example/1\">y</a><a "
      "href=\"https://y.example/2\">z</a>";
  auto t = TrackLinks(html, Click, "https://crm.example/t/", 1);
  REQUIRE(t.links.size() == 1);
  CHECK(t.links[0] == "https://y.example/1");
  CHECK(t.html ==
        "<a href=\"mailto:x@example.com\">m</a><a href='#top'>t</a><a href=tel:123>p</a>"
        "<a href=\"https://crm.example/t/u/tok\">unsubscribe</a><link "
        "href=\"https://cdn.example/s.css\">"
        "<a data-href=\"https://x.example\" href=\"https://t.example/c/0\">y</a><a "
        "href=\"https://y.example/2\">z</a>");
}

TEST_CASE("Broken HTML is copied as it is", "[delivery][tracking]") {
  for (const std::string& html :
       {std::string("<a href=\"https://x.example"), std::string("<a href"),
        std::string("text < more"), std::string(""),
        std::string("<a href=\"https://x.example/&#x41;&#0;\">")}) {
    auto t = TrackLinks(html, Click, "", 10);
    if (html.find("&#x41;") != std::string::npos) {
      REQUIRE(t.links.size() == 1);
      CHECK(t.links[0] == "https://x.example/A&#0;");
    } else {
      CHECK(t.html == html);
      CHECK(t.links.empty());
    }
  }
}

TEST_CASE("The open pixel goes before the end of the body", "[delivery][tracking]") {
  CHECK(AddOpenPixel("<html><body><p>Hi</p></BODY></html>", "https://t.example/o/x") ==
        "<html><body><p>Hi</p><img src=\"https://t.example/o/x\" width=\"1\" height=\"1\" alt=\"\" "
        "style=\"display:block;border:0;width:1px;height:1px\"></BODY></html>");
  CHECK(AddOpenPixel("<p>Hi</p>", "u").find("<img src=\"u\"") == 9);
}

TEST_CASE("Engagement counts every open and click and makes news once", "[delivery][tracking]") {
  Message m;
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  CHECK(RecordEngagement(m, Engagement::kClick, t0) ==
        std::vector<std::string>{"message.opened", "message.clicked"});
  CHECK(RecordEngagement(m, Engagement::kOpen, t0 + absl::Seconds(1)).empty());
  CHECK(RecordEngagement(m, Engagement::kClick, t0 + absl::Seconds(2)).empty());
  CHECK(m.open_count == 1);
  CHECK(m.click_count == 2);
  CHECK(*m.first_open_time == t0);
  CHECK(*m.first_click_time == t0);
  CHECK(RecordEngagement(m, Engagement::kUnsubscribe, t0 + absl::Seconds(3)) ==
        std::vector<std::string>{"message.unsubscribed"});
  CHECK(RecordEngagement(m, Engagement::kUnsubscribe, t0 + absl::Seconds(4)).empty());
  CHECK(*m.unsubscribe_time == t0 + absl::Seconds(3));

  Message n;
  CHECK(RecordEngagement(n, Engagement::kOpen, t0) == std::vector<std::string>{"message.opened"});
  CHECK(RecordEngagement(n, Engagement::kOpen, t0).empty());
  CHECK(n.open_count == 2);
  CHECK(!n.first_click_time);
}

}  // namespace
