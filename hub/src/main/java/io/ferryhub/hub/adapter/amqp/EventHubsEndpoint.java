package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.service.auth.ServiceAuthenticator;
import io.ferryhub.hub.service.telemetry.EventStreamService;

import java.time.Instant;

/**
 * IoT Hub's built-in endpoint as an Event Hub on the hub's AMQP listeners: one event hub named after the hub, the
 * event stream's partitions and consumer groups, back-ends authorised by ServiceConnect tokens as Event Hubs clients
 * present them. What its links do is {@link EventHubsLinks}'s, one per AMQP connection.
 */
public final class EventHubsEndpoint {
    final String eventHubName;
    final Instant createdAt;
    final EventStreamService events;
    final ServiceAuthenticator services;

    /**
     * @param eventHubName the built-in endpoint's event hub name (clients' {@code EntityPath})
     * @param createdAt    when the event stream was created, reported by the {@code $management} node
     */
    public EventHubsEndpoint(String eventHubName, Instant createdAt, EventStreamService events,
                             ServiceAuthenticator services) {
        this.eventHubName = eventHubName;
        this.createdAt = createdAt;
        this.events = events;
        this.services = services;
    }
}
