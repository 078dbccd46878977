#pragma once
// Small conversions every gRPC edge needs.
#include <string>

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/time/time.h"

namespace crm::grpcutil {

// Microsecond precision (what PostgreSQL stores); absl::InfinitePast() is
// "unset" and leaves `out` untouched.
void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromTimestamp(const google::protobuf::Timestamp& t);
// The bytes of a ByteBuffer as one string ("" when it cannot be read).
std::string ByteBufferToString(const grpc::ByteBuffer& buffer);
// Hex SHA-256 of the request serialized deterministically without its
// request_id: what "the same request" means for idempotency.
std::string Fingerprint(const google::protobuf::Message& request);

}  // namespace crm::grpcutil
