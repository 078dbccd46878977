#include "services/service_desk/domain/text_features.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "absl/strings/str_cat.h"

namespace crm::service_desk::domain {
namespace {

// The UTF-8 characters of a word, each as its bytes.
std::vector<std::string> Characters(const std::string& word) {
  std::vector<std::string> out;
  for (size_t i = 0; i < word.size();) {
    const unsigned char c = static_cast<unsigned char>(word[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    len = std::min(len, word.size() - i);
    out.push_back(word.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

std::vector<std::string> Words(absl::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
      word += static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if (c == '\'' && !word.empty()) {
      // "don't" is one word, "dont".
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

std::vector<std::string> Terms(absl::string_view text, const FeatureOptions& options) {
  const std::vector<std::string> words = Words(text);
  std::vector<std::string> out;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string gram = "w";
    for (int n = 1; n <= options.word_max_n && i + n <= words.size(); ++n) {
      absl::StrAppend(&gram, " ", words[i + n - 1]);
      out.push_back(gram);
    }
    std::vector<std::string> chars = Characters(words[i]);
    chars.insert(chars.begin(), " ");
    chars.push_back(" ");
    for (int n = options.char_min_n; n <= options.char_max_n; ++n) {
      for (size_t at = 0; at + n <= chars.size(); ++at) {
        std::string c = "c ";
        for (int k = 0; k < n; ++k) c += chars[at + k];
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

Vectorizer Vectorizer::Fit(const std::vector<std::string>& texts, const FeatureOptions& options) {
  std::unordered_map<std::string, int> df;
  for (const std::string& t : texts) {
    std::vector<std::string> terms = Terms(t, options);
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    for (std::string& term : terms) ++df[std::move(term)];
  }
  // Indices in term order: the same texts give the same vocabulary.
  std::map<std::string, int> kept;
  for (auto& [term, n] : df) {
    if (n >= options.min_df) kept.emplace(term, n);
  }
  Vectorizer v;
  v.options_ = options;
  const double docs = static_cast<double>(texts.size());
  for (const auto& [term, n] : kept) {
    v.index_.emplace(term, static_cast<int>(v.idf_.size()));
    v.idf_.push_back(std::log((1.0 + docs) / (1.0 + n)) + 1.0);
  }
  return v;
}

std::vector<std::string> Vectorizer::Vocabulary() const {
  std::vector<std::string> out(idf_.size());
  for (const auto& [term, i] : index_) out[i] = term;
  return out;
}

Vectorizer Vectorizer::FromParts(const FeatureOptions& options, std::vector<std::string> terms,
                                 std::vector<double> idf) {
  Vectorizer v;
  v.options_ = options;
  for (size_t i = 0; i < terms.size(); ++i) v.index_.emplace(std::move(terms[i]), i);
  v.idf_ = std::move(idf);
  return v;
}

SparseVector Vectorizer::Transform(absl::string_view text) const {
  std::unordered_map<int, int> tf;
  for (const std::string& term : Terms(text, options_)) {
    auto it = index_.find(term);
    if (it != index_.end()) ++tf[it->second];
  }
  SparseVector out;
  out.reserve(tf.size());
  double norm = 0;
  for (const auto& [i, n] : tf) {
    const double w = (1.0 + std::log(static_cast<double>(n))) * idf_[i];
    out.emplace_back(i, w);
    norm += w * w;
  }
  std::sort(out.begin(), out.end());
  if (norm > 0) {
    norm = std::sqrt(norm);
    for (auto& [i, w] : out) w /= norm;
  }
  return out;
}

}  // namespace crm::service_desk::domain
