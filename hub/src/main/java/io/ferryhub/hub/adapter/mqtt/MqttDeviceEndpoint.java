package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.Executor;

/**
 * IoT Hub's MQTT device endpoint, independent of what carries the bytes: the TLS listener and the WebSocket
 * endpoint both hand their byte stream to {@link #addMqttHandlers}. This is the one place the MQTT part of a
 * pipeline is assembled.
 */
public final class MqttDeviceEndpoint {
    static final String IDLE_HANDLER = "mqttIdle";
    static final String CONNECT_HANDLER = "mqttConnect";
    static final String SESSION_HANDLER = "mqttSession";

    private final DeviceAuthenticator authenticator;
    private final DeviceConnections connections;
    private final MqttTopicHandlers topicHandlers;
    private final Executor blockingExecutor;
    private final MqttSettings settings;
    private final PersistentSessions sessions;
    private final AuthenticationGuard guard;

    /**
     * @param blockingExecutor runs credential checks and session look-ups, which may touch storage, off the event
     *                         loop
     * @param guard            the hub's deadline for a connection's CONNECT to be accepted
     */
    public MqttDeviceEndpoint(DeviceAuthenticator authenticator, DeviceConnections connections,
                              PersistentSessions sessions, MqttTopicHandlers topicHandlers,
                              Executor blockingExecutor, MqttSettings settings, AuthenticationGuard guard) {
        this.authenticator = authenticator;
        this.connections = connections;
        this.sessions = sessions;
        this.topicHandlers = topicHandlers;
        this.blockingExecutor = blockingExecutor;
        this.settings = settings;
        this.guard = guard;
    }

    /**
     * Appends the MQTT codec and the connection state machine to a pipeline that already delivers the raw MQTT byte
     * stream (after TLS, or after WebSocket framing).
     *
     * @param transport {@code mqtt} or {@code mqtt-ws}: how the connection state and the logs name it
     */
    public void addMqttHandlers(ChannelPipeline pipeline, String transport) {
        pipeline.addLast("mqttDecoder", new MqttDecoder(settings.maxPacketBytes()));
        pipeline.addLast("mqttEncoder", MqttEncoder.INSTANCE);
        guard.addTo(pipeline, transport);
        // the keep-alive timer, armed with the client's keep-alive once CONNECT is accepted; until then the
        // authentication deadline bounds the connection
        pipeline.addLast(IDLE_HANDLER, new IdleStateHandler(0, 0, 0));
        pipeline.addLast(CONNECT_HANDLER, new MqttConnectHandler(this, transport));
    }

    DeviceAuthenticator authenticator() {
        return authenticator;
    }

    DeviceConnections connections() {
        return connections;
    }

    MqttTopicHandlers topicHandlers() {
        return topicHandlers;
    }

    Executor blockingExecutor() {
        return blockingExecutor;
    }

    MqttSettings settings() {
        return settings;
    }

    PersistentSessions sessions() {
        return sessions;
    }
}
