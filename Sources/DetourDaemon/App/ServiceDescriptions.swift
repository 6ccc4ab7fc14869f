// swift-service-lifecycle logs every service of the group at debug level with `"\(service)"`.
// Swift's default description of a struct prints every stored property, which for some services
// includes the process environment (where `env:` secrets live) and whole configurations. Each
// service says only its name.

extension HTTPListenerService: CustomStringConvertible { public var description: String { "HTTPListenerService" } }
extension ProbeService: CustomStringConvertible { var description: String { "ProbeService" } }
extension EngineService: CustomStringConvertible { var description: String { "EngineService" } }
extension LeadershipService: CustomStringConvertible { var description: String { "LeadershipService" } }
extension DeliveryWorkers: CustomStringConvertible { public var description: String { "DeliveryWorkers" } }
extension OutboxGauges: CustomStringConvertible { var description: String { "OutboxGauges" } }
extension ControlServer: CustomStringConvertible { public var description: String { "ControlServer" } }
extension ReloadService: CustomStringConvertible { var description: String { "ReloadService" } }
extension StartupPagesService: CustomStringConvertible { var description: String { "StartupPagesService" } }
extension StoppingNotice: CustomStringConvertible { var description: String { "StoppingNotice" } }
extension WatchdogService: CustomStringConvertible { public var description: String { "WatchdogService" } }
