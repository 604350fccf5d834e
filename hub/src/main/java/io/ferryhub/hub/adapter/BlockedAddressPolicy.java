package io.ferryhub.hub.adapter;

import io.ferryhub.common.ipfilter.AddressGate;
import io.ferryhub.hub.service.auth.FailedAuthentications;

import java.net.InetAddress;

/**
 * The failed-authentication lock-out as one of the {@link AddressGate}'s policies: a connection from an address
 * blocked for repeated failed device authentications ({@link FailedAuthentications}) is closed as it is accepted,
 * before any TLS work is spent on it, on every listener, beside the IP filter. One map read per connection.
 */
public final class BlockedAddressPolicy implements AddressGate.Policy {
    private final FailedAuthentications failures;

    public BlockedAddressPolicy(FailedAuthentications failures) {
        this.failures = failures;
    }

    @Override
    public String reason() {
        return "failed_authentications";
    }

    @Override
    public boolean admits(InetAddress address) {
        if (failures.isBlocked(address)) {
            failures.refusedAtAccept();
            return false;
        }
        return true;
    }
}
