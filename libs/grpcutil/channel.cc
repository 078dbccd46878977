#include "libs/grpcutil/channel.h"

#include <chrono>

#include "absl/synchronization/notification.h"

namespace crm::grpcutil {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(R"({
    "methodConfig": [{
      "name": [{}],
      "retryPolicy": {
        "maxAttempts": 3,
        "initialBackoff": "0.05s",
        "maxBackoff": "0.5s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"]
      }
    }]
  })");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  // A mail's attachment (up to the 25 MiB of a mail) read through the gateway.
  args.SetMaxReceiveMessageSize(32 * 1024 * 1024);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
}

}  // namespace crm::grpcutil

#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "libs/grpcutil/proto_util.h"

namespace crm::grpcutil {

absl::Status ProbeHealth(grpc::Channel& channel, absl::Duration timeout) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  grpc::ByteBuffer request;  // HealthCheckRequest{service: ""} encodes to zero bytes
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("health check failed: ", status.error_message()));
  }
  std::string bytes = ByteBufferToString(response);
  // HealthCheckResponse{status: SERVING (1)} is field 1 varint 1: 0x08 0x01.
  if (bytes != std::string("\x08\x01", 2)) return absl::UnavailableError("peer is not serving");
  return absl::OkStatus();
}

}  // namespace crm::grpcutil
