#include "services/gateway/api/reflection.h"

#include <set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "absl/strings/str_cat.h"
#include "libs/grpcutil/proto_util.h"

namespace crm::gateway::api {
namespace {

namespace v1 = ::grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

constexpr int kNotFound = 5;         // grpc::StatusCode::NOT_FOUND
constexpr int kInvalidArgument = 3;  // grpc::StatusCode::INVALID_ARGUMENT

void Error(v1::ServerReflectionResponse& out, int code, std::string message) {
  out.mutable_error_response()->set_error_code(code);
  out.mutable_error_response()->set_error_message(std::move(message));
}

// The file and everything it imports, transitively, each once.
void AddFile(const FileDescriptor* file, std::set<const FileDescriptor*>& seen,
             v1::FileDescriptorResponse& out) {
  if (!seen.insert(file).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out.add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), seen, out);
}

void AnswerFile(const FileDescriptor* file, absl::string_view what,
                v1::ServerReflectionResponse& out) {
  if (file == nullptr) {
    Error(out, kNotFound, absl::StrCat(what, " not found"));
    return;
  }
  std::set<const FileDescriptor*> seen;
  AddFile(file, seen, *out.mutable_file_descriptor_response());
}

class ReflectionReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit ReflectionReactor(const Reflection& reflection) : reflection_(reflection) {
    StartRead(&in_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);  // the client half-closed
      return;
    }
    v1::ServerReflectionRequest request;
    if (!request.ParseFromString(grpcutil::ByteBufferToString(in_))) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "not a ServerReflectionRequest message"));
      return;
    }
    std::string bytes = reflection_.Answer(request).SerializeAsString();
    grpc::Slice slice(bytes);
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&out_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    in_.Clear();
    StartRead(&in_);
  }
  void OnDone() override { delete this; }

 private:
  const Reflection& reflection_;
  grpc::ByteBuffer in_;
  grpc::ByteBuffer out_;
};

}  // namespace

bool Reflection::IsReflectionMethod(absl::string_view full_method) {
  return full_method == "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo" ||
         full_method == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
}

v1::ServerReflectionResponse Reflection::Answer(const v1::ServerReflectionRequest& request) const {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  v1::ServerReflectionResponse out;
  out.set_valid_host(request.host());
  *out.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case v1::ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        out.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case v1::ServerReflectionRequest::kFileByFilename:
      AnswerFile(pool->FindFileByName(request.file_by_filename()),
                 absl::StrCat("file ", request.file_by_filename()), out);
      break;
    case v1::ServerReflectionRequest::kFileContainingSymbol:
      AnswerFile(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                 absl::StrCat("symbol ", request.file_containing_symbol()), out);
      break;
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = request.file_containing_extension();
      const auto* type = pool->FindMessageTypeByName(ext.containing_type());
      const auto* field =
          type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ext.extension_number());
      AnswerFile(field == nullptr ? nullptr : field->file(),
                 absl::StrCat("extension ", ext.extension_number(), " of ", ext.containing_type()),
                 out);
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        Error(out, kNotFound, absl::StrCat("type ", request.all_extension_numbers_of_type(),
                                           " not found"));
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* r = out.mutable_all_extension_numbers_response();
      r->set_base_type_name(type->full_name());
      for (const auto* e : extensions) r->add_extension_number(e->number());
      break;
    }
    case v1::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      Error(out, kInvalidArgument, "the request names no query");
      break;
  }
  return out;
}

grpc::ServerGenericBidiReactor* Reflection::CreateReactor() const {
  return new ReflectionReactor(*this);
}

}  // namespace crm::gateway::api
