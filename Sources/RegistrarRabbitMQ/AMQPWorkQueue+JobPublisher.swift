import RegistrarRuntime

/// The API's side of the broker (`JobPublisher`): a publisher-role `AMQPWorkQueue` queues job ids
/// and reads queue depths (a passive declare: a missing queue is an error).
extension AMQPWorkQueue: JobPublisher {}
