#include "services/segmentation/storage/model_codec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace crm::segmentation::storage {
namespace {

using nlohmann::json;

json BgNbd(const domain::BgNbdParams& p) {
  return {{"r", p.r}, {"alpha", p.alpha}, {"a", p.a}, {"b", p.b}};
}
domain::BgNbdParams BgNbd(const json& j) {
  return {j.at("r").get<double>(), j.at("alpha").get<double>(), j.at("a").get<double>(),
          j.at("b").get<double>()};
}
json Gg(const domain::GammaGammaParams& p) { return {{"p", p.p}, {"q", p.q}, {"gamma", p.gamma}}; }
domain::GammaGammaParams Gg(const json& j) {
  return {j.at("p").get<double>(), j.at("q").get<double>(), j.at("gamma").get<double>()};
}

}  // namespace

std::string EncodeClvModel(const domain::ClvModel& m) {
  const domain::BgNbdFit& b = m.purchases;
  const domain::GammaGammaFit& g = m.spend;
  return json{{"as_of", absl::FormatCivilTime(m.as_of)},
              {"unit", m.unit == domain::TimeUnit::kDays ? "days" : "weeks"},
              {"time_zone", m.time_zone},
              {"currency_code", m.currency_code},
              {"bg_nbd",
               {{"params", BgNbd(b.params)},
                {"standard_errors", BgNbd(b.standard_errors)},
                {"log_likelihood", b.log_likelihood},
                {"evaluations", b.evaluations},
                {"customers", b.customers},
                {"repeat_customers", b.repeat_customers}}},
              {"gamma_gamma",
               {{"params", Gg(g.params)},
                {"standard_errors", Gg(g.standard_errors)},
                {"log_likelihood", g.log_likelihood},
                {"evaluations", g.evaluations},
                {"customers", g.customers}}},
              {"fitted_at_us", absl::ToUnixMicros(m.fitted_at)}}
      .dump();
}

absl::StatusOr<domain::ClvModel> DecodeClvModel(const std::string& text) {
  try {
    const json j = json::parse(text);
    domain::ClvModel m;
    if (!absl::ParseCivilTime(j.at("as_of").get<std::string>(), &m.as_of)) {
      return absl::DataLossError("stored model: bad as_of");
    }
    m.unit = j.at("unit").get<std::string>() == "days" ? domain::TimeUnit::kDays
                                                       : domain::TimeUnit::kWeeks;
    m.time_zone = j.at("time_zone").get<std::string>();
    m.currency_code = j.at("currency_code").get<std::string>();
    const json& b = j.at("bg_nbd");
    m.purchases.params = BgNbd(b.at("params"));
    m.purchases.standard_errors = BgNbd(b.at("standard_errors"));
    m.purchases.log_likelihood = b.at("log_likelihood").get<double>();
    m.purchases.evaluations = b.at("evaluations").get<int>();
    m.purchases.customers = b.at("customers").get<int>();
    m.purchases.repeat_customers = b.at("repeat_customers").get<int>();
    const json& g = j.at("gamma_gamma");
    m.spend.params = Gg(g.at("params"));
    m.spend.standard_errors = Gg(g.at("standard_errors"));
    m.spend.log_likelihood = g.at("log_likelihood").get<double>();
    m.spend.evaluations = g.at("evaluations").get<int>();
    m.spend.customers = g.at("customers").get<int>();
    m.fitted_at = absl::FromUnixMicros(j.at("fitted_at_us").get<int64_t>());
    return m;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrCat("stored model does not decode: ", e.what()));
  }
}

}  // namespace crm::segmentation::storage
