//! The AWS backend: DynamoDB and Secrets Manager. (being written)
use super::*;
use crate::config::AwsSettings;
pub async fn open(_settings: &AwsSettings) -> Stores {
    todo!("aws backend")
}
