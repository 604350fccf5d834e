package io.ferryhub.hub.adapter.amqp;

/**
 * What one AMQP connection may hold of the hub. Every session and link costs heap for the connection's life, so a
 * peer gets a bounded number of them: generous once it has an identity (a gateway multiplexes up to 1,000 devices,
 * one session and a handful of links each), few links before, when only the {@code $cbs} links (or, for an X.509
 * device, its first links) have any use. Sessions are not fewer before: the Java SDK's multiplexing client begins
 * one session per device before it puts any token, and a session without links costs little.
 *
 * @param maxSessions                 sessions per connection; advertised as channel-max ({@code maxSessions - 1})
 * @param maxLinksPerSession          attached links per session; advertised as handle-max
 *                                    ({@code maxLinksPerSession - 1})
 * @param maxLinks                    attached links per connection; a link beyond is refused
 * @param maxUnauthenticatedSessions  sessions before the connection is authenticated; beyond, it is closed
 * @param maxUnauthenticatedLinks     attached links before the connection is authenticated; beyond, it is closed
 */
public record AmqpLimits(int maxSessions, int maxLinksPerSession, int maxLinks, int maxUnauthenticatedSessions,
                         int maxUnauthenticatedLinks) {
    public static final AmqpLimits DEFAULTS = new AmqpLimits(1024, 64, 8192, 1024, 16);

    public AmqpLimits {
        if (maxSessions < 1 || maxSessions > 65536 || maxLinksPerSession < 1 || maxLinks < 1
                || maxUnauthenticatedSessions < 1 || maxUnauthenticatedLinks < 1) {
            throw new IllegalArgumentException("AMQP limits must be positive (and at most 65536 sessions)");
        }
    }
}
