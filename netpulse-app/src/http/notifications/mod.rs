//! The notification API (`/api/v1/notifications/…`, maintenance windows, incidents), with an
//! API token or the dashboard's session (plus `X-CSRF-Token` for changes): what the
//! `/settings/notifications` page calls. Channel secrets are write-only: answers
//! name the secrets that are set (`secretsSet`), never their values.
//!
//! One endpoint group per concept ([`settings`], [`channels`], [`deliveries`],
//! [`maintenance`]); [`NotificationsApi`] is all of them. Each endpoint reads its input, calls
//! one function of [`crate::service::notifications`] and renders the answer.

pub mod alerting;
pub mod channels;
pub mod deliveries;
pub mod maintenance;
pub mod settings;

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::registry::{MetaApi, Registry};
use poem_openapi::{OpenApi, Tags};

pub use channels::{
    ChannelDto, ChannelInputDto, ChannelListDto, ChannelTypeDto, ChannelTypesDto, FieldSpecDto,
    QuietHoursDto, TestResultDto,
};
pub use deliveries::{DeliveryDto, DeliveryPageDto};
pub use maintenance::{
    IncidentDto, IncidentListDto, MaintenanceDto, MaintenanceInputDto, MaintenanceListDto,
};
pub use settings::NotificationSettingsDto;

use crate::service::App;

#[derive(Tags)]
enum Tag {
    /// Notification settings, channels and the delivery log.
    Notifications,
    /// Maintenance windows and incidents (shown in history).
    Maintenance,
}

/// The notification endpoints: the settings, channel, delivery-log and maintenance groups, in
/// that order (the order of the OpenAPI document).
#[derive(Debug)]
pub struct NotificationsApi {
    /// The services.
    pub app: App,
}

type Groups = (
    settings::SettingsApi,
    channels::ChannelsApi,
    deliveries::DeliveriesApi,
    maintenance::MaintenanceApi,
    alerting::AlertingApi,
);

impl NotificationsApi {
    fn groups(self) -> Groups {
        (
            settings::SettingsApi {
                app: self.app.clone(),
            },
            channels::ChannelsApi {
                app: self.app.clone(),
            },
            deliveries::DeliveriesApi {
                app: self.app.clone(),
            },
            maintenance::MaintenanceApi {
                app: self.app.clone(),
            },
            alerting::AlertingApi { app: self.app },
        )
    }
}

impl OpenApi for NotificationsApi {
    fn meta() -> Vec<MetaApi> {
        Groups::meta()
    }

    fn register(registry: &mut Registry) {
        Groups::register(registry);
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.groups().add_routes(route_table);
    }
}
