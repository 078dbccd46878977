#pragma once
// A customer's consents as the segments read them: consent.<channel>.<purpose>
// fields (opted_in, opted_out, pending, unknown when never recorded), and the
// objection to profiling: a customer who opted out of purpose "profiling" on
// any channel gets no behavioural segment (one that reads behaviour events or
// the model scores and RFM features).
#include <map>
#include <string>
#include <vector>

namespace crm::segmentation::domain {

struct CustomerConsent {
  std::string customer_id;
  std::string channel;  // email, sms, push, phone, web
  std::string purpose;  // marketing, transactional, profiling
  std::string status;   // opted_in, opted_out, pending
};

// Field name -> status ("consent.email.marketing" -> "opted_out").
using ConsentFields = std::map<std::string, std::string>;

std::string ConsentField(const std::string& channel, const std::string& purpose);

// Every channel and purpose the language knows, "unknown" where `kept` has
// none.
ConsentFields WithUnknowns(const ConsentFields& kept);

bool ObjectsToProfiling(const ConsentFields& kept);

}  // namespace crm::segmentation::domain
