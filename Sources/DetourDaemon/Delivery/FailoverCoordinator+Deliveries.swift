import DetourChannels
import DetourCore
import DetourStore
import Foundation

/// What a worker needs to attempt one delivery, or why it cannot be attempted.
enum PreparedDelivery: Sendable {
    case send(any Channel, OutgoingMessage)
    /// Nothing to send any more (a banner change that a later event has replaced).
    case superseded(String)
    case fail(DeliveryError)
}

extension FailoverCoordinator {
    /// Builds the message for a claimed delivery from the policy in force now (a policy edited
    /// mid-incident applies to deliveries not yet made) and the incident as stored.
    func prepare(_ d: DeliveryRecord) async -> PreparedDelivery {
        guard let policy = policyForDelivery(d.business) else {
            return .fail(DeliveryError(code: "policy.gone", message: "\(d.channel.rawValue) to \(d.target): business '\(d.business)' has no policy any more", retryable: false))
        }
        let incident: IncidentRecord
        do { incident = try await cachedIncident(d.incident) } catch {
            return .fail(DeliveryError(code: "store.read", message: "cannot read incident \(d.incident): \(error)", retryable: true))
        }
        if d.channel == .banner, d.eventSequence < incident.eventSequence {
            return .superseded("banner change replaced by event \(incident.eventSequence) of incident \(incident.id)")
        }
        if d.channel == .webhook, isWebhookDisabled(d.target, business: d.business) {
            return .fail(DeliveryError(code: "webhook.disabled", message: "webhook \(d.target) of \(d.business) is disabled after an HTTP 410 until its policy changes", retryable: false))
        }
        let channel: any Channel
        switch channels.channel(business: d.business, kind: d.channel, target: d.target) {
        case .success(let c): channel = c
        case .failure(let e): return .fail(e)
        }
        let names = incident.platforms.map { config.daemon.platforms[$0]?.displayName ?? $0.rawValue }
        let event: IncidentEvent = d.event == .opened ? .opened : .resolved
        let text = d.event == .opened ? policy.message.outage : (policy.message.recovery ?? "")
        let isEmail = d.channel == .email
        let context = MessageContext(
            event: event, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "\(incident.id)",
            platforms: names, since: incident.openedAt, resolvedAt: d.event == .resolved ? incident.resolvedAt : nil,
            message: text, contacts: policy.contacts,
            recipientName: isEmail ? d.recipientName : nil, recipientEmail: isEmail ? d.target : nil,
            locale: isEmail ? d.locale : nil,
            unsubscribeURL: isEmail ? links.url(business: policy.business, email: d.target) : nil,
            eventSequence: d.eventSequence)
        return .send(channel, OutgoingMessage(deliveryID: Self.messageID(d, install: installID), recipient: d.target, context: context))
    }

    /// The id receivers see (email Message-ID, webhook-id): the same for every attempt of one delivery,
    /// and never the same for two deliveries, even of two state databases (the install id is random
    /// per database), so a receiver that drops duplicates never drops a new notice.
    static func messageID(_ d: DeliveryRecord, install: String) -> String {
        "detour-\(install.prefix(16))-\(d.incident)-\(d.eventSequence)-\(d.id)"
    }

    /// Keeps the banners of open incidents from expiring.
    func renewBanners() async {
        for (business, publisher) in channels.bannerPublishers where latest[business]?.isOpen == true {
            do { try await publisher.renew() } catch {
                logger.error("cannot renew the banner", metadata: ["business": "\(business)", "error": "\(error)"])
            }
        }
    }
}
