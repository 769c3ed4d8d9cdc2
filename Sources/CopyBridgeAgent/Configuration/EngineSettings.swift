import CopyEngine
import FIXSession

/// Builds the copy engine's configuration from a validated settings file, reporting what the engine
/// refuses at the line of the key concerned.
enum EngineSettings {
    /// The raw values of one block's copy keys, as the engine's parsers take them.
    static func values(_ block: SettingsBlock, of table: CopyConfigBlock) -> [String: String] {
        var out: [String: String] = [:]
        for entry in block.entries where CopyConfigSchema.key(entry.baseKey, in: table) != nil {
            out[entry.baseKey] = entry.rawValue
        }
        return out
    }

    static func build(_ configuration: CopyBridgeConfiguration) -> Result<CopyEngineConfiguration, SettingsError> {
        var diagnostics: [SettingsDiagnostic] = []
        let providerBlocks = configuration.blocks(of: .provider)
        let followerBlocks = configuration.blocks(of: .follower)
        var providers: [ProviderConfig] = []
        for block in providerBlocks {
            do throws(CopyConfigurationError) {
                providers.append(try ProviderConfig(settings: values(block, of: .provider)))
            } catch {
                diagnostics.append(diagnostic(error, block))
            }
        }
        var followers: [FollowerConfig] = []
        for block in followerBlocks {
            do throws(CopyConfigurationError) {
                followers.append(try FollowerConfig(settings: values(block, of: .follower)))
            } catch {
                diagnostics.append(diagnostic(error, block))
            }
        }
        var sessions: [BrokerSessionConfig] = []
        for (settings, block) in zip(configuration.sessions, configuration.sessionBlocks) {
            do throws(CopyConfigurationError) {
                sessions.append(try BrokerSessionConfig(name: settings.name, settings: values(block, of: .session)))
            } catch {
                diagnostics.append(diagnostic(error, block))
            }
        }
        guard diagnostics.isEmpty else { return .failure(SettingsError(diagnostics: diagnostics)) }
        let engine = CopyEngineConfiguration(providers: providers, followers: followers, sessions: sessions)
        do throws(CopyConfigurationError) {
            try engine.validate()
        } catch {
            let block: SettingsBlock?
            switch error.block {
            case .provider:
                block = providerBlocks.first { $0["ProviderID"]?.rawValue == error.id } ?? providerBlocks.first
            case .follower:
                block = followerBlocks.first { $0["FollowerID"]?.rawValue == error.id } ?? followerBlocks.first
            case .session:
                block =
                    zip(configuration.sessions, configuration.sessionBlocks).first { $0.0.name == error.id }?.1
                    ?? configuration.sessionBlocks.first
            }
            if let block {
                return .failure(SettingsError(diagnostics: [diagnostic(error, block)]))
            }
            return .failure(
                SettingsError(diagnostics: [
                    SettingsDiagnostic(at: SourceLocation(file: configuration.file, line: nil), "\(error)")
                ]))
        }
        return .success(engine)
    }

    /// The engine's refusal, located at the key it names (or the block when the key is not written).
    static func diagnostic(_ error: CopyConfigurationError, _ block: SettingsBlock) -> SettingsDiagnostic {
        block.diagnostic(for: block.contains(error.key) ? error.key : nil, error.description)
    }
}
