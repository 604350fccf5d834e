package io.ferryhub.hub.adapter.amqp;

import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.engine.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Sets the handle-max a session's BEGIN advertises. Proton-J (0.34, 0.35) hard-codes 65535 and offers no setter,
 * so this reaches into its session state once per session. Proton then refuses an attach above the limit itself,
 * though not cleanly: it re-enters its frame parser until the stack overflows (as it does today for any handle above
 * 65535), which {@link AmqpConnection} turns into closing the connection. Should a Proton version lay its state out
 * differently, nothing is advertised and {@link AmqpQuota}'s count of links per session still holds.
 */
final class ProtonHandleMax {
    private static final Logger log = LoggerFactory.getLogger(ProtonHandleMax.class);
    private static final Method TRANSPORT_SESSION;
    private static final Field HANDLE_MAX;

    static {
        Method method = null;
        Field field = null;
        try {
            Class<?> sessionImpl = Class.forName("org.apache.qpid.proton.engine.impl.SessionImpl");
            Class<?> transportSession = Class.forName("org.apache.qpid.proton.engine.impl.TransportSession");
            method = sessionImpl.getDeclaredMethod("getTransportSession");
            method.setAccessible(true);
            field = transportSession.getDeclaredField("_handleMax");
            field.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("this Proton-J version does not let the hub advertise handle-max ({}); links per session are "
                    + "still counted", e.toString());
            method = null;
            field = null;
        }
        TRANSPORT_SESSION = method;
        HANDLE_MAX = field;
    }

    private ProtonHandleMax() {
    }

    /** Call before the session's BEGIN is sent (on SESSION_REMOTE_OPEN, before {@code session.open()}). */
    static void set(Session session, int handleMax) {
        if (HANDLE_MAX == null) {
            return;
        }
        try {
            Object state = TRANSPORT_SESSION.invoke(session);
            if (state != null) {
                HANDLE_MAX.set(state, UnsignedInteger.valueOf(handleMax));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("handle-max not set on a session: {}", e.toString());
        }
    }
}
