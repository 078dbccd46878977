#pragma once
// Labelled texts of two intents (lost_card, refund) as NDJSON, three
// rounds of six texts each: enough for the classifiers' use cases over the
// in-memory storage (routing by intent, auto-response).
#include <string>
#include <utility>
#include <vector>

namespace crm::testing {

inline std::string IntentExamples() {
  std::string out;
  const std::vector<std::pair<std::string, std::vector<std::string>>> by_label = {
      {"lost_card",
       {"I lost my card", "my card was stolen", "card missing from my wallet",
        "someone took my card", "cannot find my card anywhere", "block my lost card"}},
      {"refund",
       {"I want my money back", "refund my order", "how do I get a refund",
        "the refund has not arrived", "return and refund please", "money back for my purchase"}}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [label, texts] : by_label) {
      for (const std::string& text : texts) {
        out += "{\"text\": \"" + text + " " + std::to_string(round) + "\", \"label\": \"" + label +
               "\"}\n";
      }
    }
  }
  return out;
}

}  // namespace crm::testing
