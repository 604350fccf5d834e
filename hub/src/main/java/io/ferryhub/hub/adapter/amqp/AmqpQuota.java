package io.ferryhub.hub.adapter.amqp;

import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Session;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One connection's sessions and attached links counted against {@link AmqpLimits}, on its event loop. A link counts
 * from the peer's attach to the peer's detach (while its handle is taken), whatever the hub answered; a session
 * from the peer's begin to its end.
 */
final class AmqpQuota {
    /** What to do with an endpoint over the limits. */
    record Breach(ErrorCondition condition, boolean closesConnection) {
    }

    private final AmqpLimits limits;
    private final Map<Session, Integer> linksBySession = new IdentityHashMap<>();
    private final Map<Link, Session> links = new IdentityHashMap<>();
    private boolean authenticated;

    AmqpQuota(AmqpLimits limits) {
        this.limits = limits;
    }

    void authenticated() {
        authenticated = true;
    }

    boolean isAuthenticated() {
        return authenticated;
    }

    /** Counts a session the peer began; a breach closes the connection. */
    Breach begin(Session session) {
        linksBySession.putIfAbsent(session, 0);
        int sessions = linksBySession.size();
        if (sessions > limits.maxSessions()) {
            return closing("at most " + limits.maxSessions() + " sessions per connection (channel-max "
                    + (limits.maxSessions() - 1) + ")");
        }
        if (!authenticated && sessions > limits.maxUnauthenticatedSessions()) {
            return closing("at most " + limits.maxUnauthenticatedSessions() + " sessions before the connection "
                    + "authenticates (put a token on $cbs first)");
        }
        return null;
    }

    /** The peer ended a session: it and the links still attached on it no longer count. */
    void end(Session session) {
        linksBySession.remove(session);
        links.values().removeIf(s -> s == session);
    }

    /** Counts a link the peer attached; a breach refuses the link, or closes the connection. */
    Breach attach(Link link) {
        Session session = link.getSession();
        if (links.put(link, session) != null) {
            return null; // counted already
        }
        int onSession = linksBySession.merge(session, 1, Integer::sum);
        if (onSession > limits.maxLinksPerSession()) {
            return closing("at most " + limits.maxLinksPerSession() + " links per session (handle-max "
                    + (limits.maxLinksPerSession() - 1) + ")");
        }
        if (!authenticated && links.size() > limits.maxUnauthenticatedLinks()) {
            return closing("at most " + limits.maxUnauthenticatedLinks() + " links before the connection "
                    + "authenticates (put a token on $cbs first)");
        }
        if (links.size() > limits.maxLinks()) {
            return new Breach(condition("at most " + limits.maxLinks() + " links per connection"), false);
        }
        return null;
    }

    /** The peer detached a link: its handle is free again. */
    void detach(Link link) {
        Session session = links.remove(link);
        if (session != null) {
            linksBySession.computeIfPresent(session, (s, n) -> n - 1);
        }
    }

    int links() {
        return links.size();
    }

    private static Breach closing(String description) {
        return new Breach(condition(description), true);
    }

    private static ErrorCondition condition(String description) {
        return new ErrorCondition(AmqpErrors.RESOURCE_LIMIT, description);
    }
}
