#pragma once
// Text features of the service desk's classifier (docs/service-desk.md,
// "The classifier"): the terms of a text — words and word pairs, and the
// character 2..5-grams of each word between word boundaries — weighted by
// TF-IDF (sublinear term frequency, smoothed inverse document frequency)
// and L2-normalized. Words are runs of letters and digits: ASCII is
// lower-cased, every other UTF-8 character counts as a letter, so Korean
// (Hangul syllables, agglutinated particles) gets character n-grams that
// match across endings the way English gets them across suffixes.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace crm::service_desk::domain {

struct FeatureOptions {
  int word_max_n = 2;  // word 1..n-grams
  int char_min_n = 2;  // character n-grams of each word, with its boundaries
  int char_max_n = 5;
  int min_df = 1;  // a term in fewer training texts is left out
};

// The words of a text, lower-cased (ASCII), apostrophes dropped.
std::vector<std::string> Words(absl::string_view text);
// Every term of a text, repeated as often as it occurs: "w <word>",
// "w <word> <word>", "c <n-gram>" (n-grams of " word " in characters).
std::vector<std::string> Terms(absl::string_view text, const FeatureOptions& options);

// A sparse vector: (feature index from 0, value), by index.
using SparseVector = std::vector<std::pair<int, double>>;

class Vectorizer {
 public:
  // The vocabulary and document frequencies of the training texts.
  static Vectorizer Fit(const std::vector<std::string>& texts, const FeatureOptions& options);
  // A text's TF-IDF vector (terms not in the vocabulary are left out).
  SparseVector Transform(absl::string_view text) const;
  size_t size() const { return idf_.size(); }

  // What a stored model keeps: the options, the terms by index, their IDF.
  const FeatureOptions& options() const { return options_; }
  std::vector<std::string> Vocabulary() const;
  const std::vector<double>& idf() const { return idf_; }
  // Back from those parts (terms and idf of one length, terms distinct).
  static Vectorizer FromParts(const FeatureOptions& options, std::vector<std::string> terms,
                              std::vector<double> idf);

 private:
  FeatureOptions options_;
  std::unordered_map<std::string, int> index_;
  std::vector<double> idf_;
};

}  // namespace crm::service_desk::domain
