package io.ferryhub.hub.service.ipfilter;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.ipfilter.IpFilterRule;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.hub.storage.ipfilter.IpFilterStore;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The service: changes are saved before they apply, a failed save or a bad change leaves the rules as they were. */
class IpFilterServiceTest {
    /** The last saved document; a save fails while {@code failing}. */
    private static final class MemoryStore implements IpFilterStore {
        volatile byte[] saved;
        volatile boolean failing;

        @Override
        public Optional<byte[]> load() {
            return Optional.ofNullable(saved);
        }

        @Override
        public CompletableFuture<Void> save(byte[] rulesJson) {
            if (failing) {
                return CompletableFuture.failedFuture(new java.io.IOException("disk full"));
            }
            saved = rulesJson;
            return CompletableFuture.completedFuture(null);
        }
    }

    private final MemoryStore store = new MemoryStore();
    private final IpFilterService service = new IpFilterService(store);
    private final List<IpFilterRules> announced = new CopyOnWriteArrayList<>();

    @Test
    void changesAreSavedThenAnnounced() {
        service.onChange(announced::add);
        assertEquals(List.of(IpFilterRules.EMPTY), announced, "a new listener hears the rules in force");
        service.add(IpFilterRule.of("a", "Reject", "10.0.0.0/8"), null);
        service.add(IpFilterRule.of("b", "Accept", "10.1.0.0/16"), 0);
        assertEquals(List.of("b", "a"), service.rules().rules().stream().map(IpFilterRule::name).toList());
        assertEquals(3, announced.size());
        assertEquals(service.rules(), new IpFilterService(store).rules(), "what was saved is what a restart reads");
        service.delete("B");
        assertEquals(List.of("a"), new IpFilterService(store).rules().rules().stream().map(IpFilterRule::name)
                .toList());
    }

    @Test
    void badChangesChangeNothing() {
        service.add(IpFilterRule.of("a", "Reject", "10.0.0.0/8"), null);
        service.onChange(announced::add);
        HubException duplicate = assertThrows(HubException.class,
                () -> service.add(IpFilterRule.of("A", "Accept", "::1"), null));
        assertEquals(HubErrorCode.ArgumentInvalid, duplicate.errorCode());
        HubException missing = assertThrows(HubException.class, () -> service.delete("nope"));
        assertEquals(HubErrorCode.IpFilterRuleNotFound, missing.errorCode());
        store.failing = true;
        assertThrows(RuntimeException.class, () -> service.add(IpFilterRule.of("b", "Accept", "::1"), null));
        assertEquals(1, service.rules().rules().size(), "a change that was not saved does not apply");
        assertEquals(1, announced.size(), "nor is it announced");
    }

    @Test
    void anUnreadableStoredFilterStopsTheStartWithTheReason() {
        store.saved = "{\"ipFilterRules\":[{\"filterName\":\"x\"}]}".getBytes(StandardCharsets.UTF_8);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new IpFilterService(store));
        assertTrue(e.getMessage().contains("IP filter"), e.getMessage());
    }
}
