package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.auth.HostAliases;
import io.ferryhub.hub.service.auth.ServiceAuthenticator;
import io.ferryhub.hub.service.auth.ServiceGrants;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.streams.StreamService;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.hub.service.twin.TwinService;
import io.netty.channel.ChannelPipeline;

import java.util.concurrent.Executor;

/**
 * The hub's AMQP 1.0 endpoint, shared by the AMQPS listener (5671) and AMQP over WebSockets: the services its
 * connections translate to. Authentication runs on {@code blockingExecutor}, never on an event loop.
 */
public final class AmqpEndpoint {
    final DeviceAuthenticator devices;
    final ServiceAuthenticator services;
    final HostAliases aliases;
    final DeviceConnections connections;
    final TelemetryService telemetry;
    final CloudToDeviceService c2d;
    final Executor blockingExecutor;
    final AmqpLimits limits;
    final AuthenticationGuard guard;
    /** What service grants hold, so a regenerated policy key closes them; null: not followed. */
    volatile ServiceGrants serviceGrants;
    /** The built-in endpoint, when served on these listeners. */
    volatile EventHubsEndpoint eventHubs;
    private volatile DeviceServices deviceServices;
    private final AmqpTwinNotifications twinNotifications = new AmqpTwinNotifications();

    /** What the device link pairs (twin, methods, streams) translate to. */
    public record DeviceServices(TwinService twins, DirectMethodService methods, StreamService streams) {
    }

    public AmqpEndpoint(DeviceAuthenticator devices, ServiceAuthenticator services, HostAliases aliases,
                        DeviceConnections connections, TelemetryService telemetry, CloudToDeviceService c2d,
                        Executor blockingExecutor, AmqpLimits limits, AuthenticationGuard guard) {
        this.devices = devices;
        this.services = services;
        this.aliases = aliases;
        this.connections = connections;
        this.telemetry = telemetry;
        this.c2d = c2d;
        this.blockingExecutor = blockingExecutor;
        this.limits = limits;
        this.guard = guard;
    }

    /** Closes service grants (and their links) whose policy key stops holding, as {@code grants} tells. */
    public void followServiceGrants(ServiceGrants grants) {
        this.serviceGrants = grants;
    }

    /** Serves the built-in Event Hub-compatible endpoint on this endpoint's listeners too. */
    public void serveEventHubs(EventHubsEndpoint builtIn) {
        this.eventHubs = builtIn;
    }

    /** Serves twin, direct-method and stream links from now on; without it those nodes are unknown. */
    public void serveDeviceChannels(DeviceServices services) {
        this.deviceServices = services;
        services.twins().addListener(twinNotifications);
    }

    /** The link pair of a device node, or null when the hub serves no such node. */
    AmqpDeviceChannel channel(AmqpAddress.Kind kind, AmqpConnection connection, AuthenticatedDevice device,
                              AmqpConnection.AmqpDeviceLink deviceLink) {
        DeviceServices services = deviceServices;
        if (services == null) {
            return null;
        }
        return switch (kind) {
            case TWIN -> new AmqpTwinChannel(connection, device, deviceLink, services.twins(), twinNotifications);
            case METHODS -> new AmqpMethodChannel(connection, device, deviceLink, services.methods(), connections);
            case STREAMS -> new AmqpStreamChannel(connection, device, deviceLink, services.streams(), connections);
            default -> null;
        };
    }

    /** Appends the AMQP handler to a pipeline that delivers the connection's bytes as {@code ByteBuf}s. */
    public void addAmqpHandlers(ChannelPipeline pipeline, String transport) {
        guard.addTo(pipeline, transport);
        pipeline.addLast("amqp", new AmqpConnection(this, transport));
    }
}
