package io.ferryhub.hub.service.ipfilter;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.ipfilter.IpFilterRule;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.storage.ipfilter.IpFilterStore;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The hub's IP filter: ordered accept/reject rules for the addresses connections come from (IoT Hub's
 * {@code ipFilterRules}). Every change is validated whole, saved, and only then applied and announced to the
 * listeners (the listeners' address gates, stand-alone gateways): a change that fails leaves the old rules in force.
 */
public final class IpFilterService {
    private final IpFilterStore store;
    private final List<Consumer<IpFilterRules>> listeners = new CopyOnWriteArrayList<>();
    private volatile IpFilterRules rules;

    /** @throws IllegalStateException when the stored rules cannot be read (a damaged data directory) */
    public IpFilterService(IpFilterStore store) {
        this.store = store;
        this.rules = store.load().map(bytes -> {
            try {
                return IpFilterRules.fromJson(Json.parse(bytes));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("the stored IP filter is unreadable: " + e.getMessage(), e);
            }
        }).orElse(IpFilterRules.EMPTY);
    }

    public IpFilterRules rules() {
        return rules;
    }

    /** Called with the new rules after each change, on the changing thread; and once at once with the current. */
    public void onChange(Consumer<IpFilterRules> listener) {
        listeners.add(listener);
        listener.accept(rules);
    }

    public void removeListener(Consumer<IpFilterRules> listener) {
        listeners.remove(listener);
    }

    /** Inserts a rule at {@code position} (0-based; null appends). */
    public IpFilterRules add(IpFilterRule rule, Integer position) {
        return change(current -> invalid(() -> current.with(rule, position)));
    }

    /** @throws HubException 404 when no rule has that name */
    public IpFilterRules delete(String name) {
        return change(current -> {
            IpFilterRules next = current.without(name);
            if (next == current) {
                throw new HubException(HubErrorCode.IpFilterRuleNotFound, "no IP filter rule is named '" + name
                        + "'");
            }
            return next;
        });
    }

    /** Replaces every rule at once. */
    public IpFilterRules replace(IpFilterRules next) {
        return change(current -> next);
    }

    private synchronized IpFilterRules change(UnaryOperator<IpFilterRules> edit) {
        IpFilterRules next = edit.apply(rules);
        store.save(Json.toBytes(next.toJson())).join();
        rules = next;
        listeners.forEach(l -> l.accept(next));
        return next;
    }

    private static IpFilterRules invalid(Supplier<IpFilterRules> edit) {
        try {
            return edit.get();
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, e.getMessage());
        }
    }
}
